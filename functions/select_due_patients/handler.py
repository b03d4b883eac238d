"""R1: one page of a clinic's due patients, from the sparse due index."""

from revisit.lambda_runtime import MetricUnit, metrics, step
from revisit.models.steps.sweep import SelectDueRequest, SelectDueResult
from revisit.services.sweep import select_due_patients


def count(result: SelectDueResult) -> None:
    metrics.add_metric(name="PatientsDue", unit=MetricUnit.Count, value=len(result.recalls))
    metrics.add_metric(name="DueIndexItemsRead", unit=MetricUnit.Count, value=result.items_read)
    if result.capacity_reached:  # the rest waits for the next night, oldest due first
        metrics.add_metric(name="SweepCapacityReached", unit=MetricUnit.Count, value=1)


lambda_handler = step(SelectDueRequest, on_result=count)(select_due_patients)
