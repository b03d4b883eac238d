"""The input and output of every workflow step: what the ASL passes in, what the Lambda returns.

State carries ids, dates and counts only. No names, phones, emails or notes travel through an
execution, because ops read executions in the console.
Each workflow's models are in a module of their own, so a function builds only its own at cold start (issue 14).
"""

from pydantic import BaseModel, ConfigDict


class StepModel(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class StepRequest(StepModel):
    execution_name: str
    """The correlation id every log line of the step carries."""
