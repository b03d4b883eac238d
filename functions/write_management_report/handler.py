"""The monthly management report: recall calls (R26), retention (R25), inactive patients and campaigns (A1, A8)."""

from revisit.lambda_runtime import step
from revisit.models.steps.referral import ReferralReportRequest
from revisit.services.management_report import write_management_report

lambda_handler = step(ReferralReportRequest)(write_management_report)
