"""R2 R3 R4 R7 R8 R9 R10: open the patient's recall cycle, the staff's tasks and the coverage check."""

from revisit.lambda_runtime import step
from revisit.models.steps.recall import OpenRecallRequest
from revisit.services.recall import open_recall

lambda_handler = step(OpenRecallRequest)(open_recall)
