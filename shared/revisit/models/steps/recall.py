"""Recall: one execution per patient and cycle."""

from datetime import date
from typing import Literal

from revisit.models.common import Channel, Identifier
from revisit.models.steps import StepModel, StepRequest


class RecallRef(StepRequest):
    patient_id: Identifier
    cycle_id: str


class PrepareRecallRequest(StepRequest):
    patient_id: Identifier
    clinic_id: Identifier
    recall_due_date: date


class PrepareRecallResult(StepModel):
    patient_id: Identifier
    cycle_id: str
    proceed: bool
    reason: str
    days_since_last_visit: int | None = None
    suggested_visit_date: date | None = None
    next_contact_at: str
    """AWS timestamp (UTC, 'Z') for the ladder's Wait state."""


class OpenRecallRequest(PrepareRecallRequest):
    retry_count: int = 0
    """Step Functions' `$$.State.RetryCount`: the eligibility provider is retried with the step, and given up
    on (coverage unknown, the ladder runs) on the step's last eligibility try."""


class OpenRecallResult(StepModel):
    """What the Recall machine's first step leaves: the same shape as a contact's result (the first rung's
    time; "stopped" when the patient booked or opted out before the cycle opened, which the ladder's first
    look confirms at once)."""

    cycle_id: str
    outcome: Literal["wait", "stopped"]
    next_contact_at: str
    detail: str
    coverage: str | None = None


class RecallTasksResult(StepModel):
    task_ids: list[str]


class VerifyInsuranceResult(StepModel):
    coverage: str
    source: str


class ContactResult(StepModel):
    cycle_id: str
    outcome: Literal["wait", "stopped", "finished"]
    next_contact_at: str
    step: Identifier | None = None
    channel: Channel | None = None
    detail: str
