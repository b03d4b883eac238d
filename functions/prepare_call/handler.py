"""F5: on the call day, the call in the assigned registrar's queue and an email to them."""

from revisit.lambda_runtime import step
from revisit.models.steps.referral import LeadRef
from revisit.services.referral import prepare_call

lambda_handler = step(LeadRef)(prepare_call)
