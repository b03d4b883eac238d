"""I15: the daily intake report (the new patients of the day, per clinic, with their onboarding state) to S3."""

from revisit.lambda_runtime import step
from revisit.models.steps.intake import IntakeReportRequest
from revisit.services.intake_report import write_intake_report

lambda_handler = step(IntakeReportRequest)(write_intake_report)
