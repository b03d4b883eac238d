"""The referral execution's wait: its task token left on the lead (answered by whatever moves the lead)."""

from revisit.lambda_runtime import step
from revisit.models.steps.referral import LeadWait
from revisit.services.referral import await_lead

lambda_handler = step(LeadWait)(await_lead)
