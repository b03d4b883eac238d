"""R9: insurance coverage for the recall visit."""

from revisit.lambda_runtime import step
from revisit.models.steps import RecallRef
from revisit.services.recall import verify_insurance

lambda_handler = step(RecallRef)(verify_insurance)
