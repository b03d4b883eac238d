"""The monthly referral report (leads by stage and refusal reason, conversion, days to booking) to S3."""

from revisit.lambda_runtime import step
from revisit.models.steps.referral import ReferralReportRequest
from revisit.services.referral_report import write_referral_report

lambda_handler = step(ReferralReportRequest)(write_referral_report)
