"""R14: the administrator's nightly summary email."""

from revisit.lambda_runtime import step
from revisit.models.steps.sweep import AdminSummaryRequest
from revisit.services.sweep import email_admin_summary

lambda_handler = step(AdminSummaryRequest)(email_admin_summary)
