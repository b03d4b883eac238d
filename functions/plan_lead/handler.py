"""F3, F4: a new lead's assignment task for the senior registrar; then where the lead is."""

from revisit.lambda_runtime import step
from revisit.models.steps.referral import LeadRef
from revisit.services.referral import plan_lead

lambda_handler = step(LeadRef)(plan_lead)
