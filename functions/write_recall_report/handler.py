"""R11: the daily recall report (CSV, JSON, HTML) to S3."""

from revisit.lambda_runtime import step
from revisit.models.steps.sweep import RunDateRequest
from revisit.services.sweep import write_recall_report

lambda_handler = step(RunDateRequest)(write_recall_report)
