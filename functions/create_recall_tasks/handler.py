"""R4 R8: the front desk's recall task and the hygienist's chart review."""

from revisit.lambda_runtime import step
from revisit.models.steps import RecallRef
from revisit.services.recall import create_recall_tasks

lambda_handler = step(RecallRef)(create_recall_tasks)
