"""R2 R3 R7 R10: open the patient's recall cycle."""

from revisit.lambda_runtime import step
from revisit.models.steps import PrepareRecallRequest
from revisit.services.recall import prepare_recall

lambda_handler = step(PrepareRecallRequest)(prepare_recall)
