"""R12: each clinic's lead dentist reviews the pending recall cases."""

from revisit.lambda_runtime import step
from revisit.models.steps.sweep import RunDateRequest
from revisit.services.sweep import alert_lead_dentist

lambda_handler = step(RunDateRequest)(alert_lead_dentist)
