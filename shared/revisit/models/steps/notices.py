"""Appointment notices: one execution per appointment and version."""

from pydantic import AwareDatetime

from revisit.models.common import Identifier
from revisit.models.steps import StepModel, StepRequest


class AppointmentNoticeRequest(StepRequest):
    patient_id: Identifier
    appointment_id: str
    version: AwareDatetime
    """The start time the execution was made for: a rescheduled appointment gets a new execution."""
    notice_index: int = 0


class AppointmentNoticeResult(StepModel):
    done: bool
    notice_index: int
    next_at: str
    """When to call again (an AWS timestamp, for the Wait state)."""
    notice: str | None = None
    sent: list[str] = []
    """The channels this call sent on."""
    detail: str
