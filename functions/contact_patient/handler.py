"""R5 R6 R15 R16 R24 R27: one rung of the contact ladder."""

from revisit.lambda_runtime import MetricUnit, metrics, step
from revisit.models.steps.recall import ContactResult, RecallRef
from revisit.services.recall import contact_patient


def count(result: ContactResult) -> None:
    if result.channel is not None:
        name = "MessagesNotSent" if result.detail in ("failed", "unconfirmed") else "ContactsMade"
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        metrics.add_metric(name=f"Contacts_{result.channel.value}", unit=MetricUnit.Count, value=1)


lambda_handler = step(RecallRef, on_result=count)(contact_patient)
