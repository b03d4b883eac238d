"""R13: patients due for recall in the next 30 days."""

from revisit.lambda_runtime import step
from revisit.models.steps.sweep import RunDateRequest
from revisit.services.sweep import count_upcoming

lambda_handler = step(RunDateRequest)(count_upcoming)
