"""Referral follow-up: one execution per lead, named lead-<lead id>."""

from typing import Literal

from pydantic import AwareDatetime

from revisit.models.steps import StepModel, StepRequest


class LeadRef(StepRequest):
    lead_id: str


class LeadRoute(StepModel):
    """Where the lead is: the execution's Choice state follows `stage` (and waits for `call_at`)."""

    stage: Literal["new", "assigned", "booked", "success", "failed"]
    call_at: AwareDatetime | None = None
    wake_at: AwareDatetime | None = None
    """When a lead waiting for its call day is looked at again (its call time, or the next working day's)."""
    calling: bool = False
    """The call is in the registrar's queue: wait for its outcome."""


class LeadWait(StepRequest):
    lead_id: str
    waiting_for: Literal["assignment", "call_outcome", "visit"]
    token: str


class LeadWaitResult(StepModel):
    waiting: bool
    stage: str


class ReferralReportRequest(StepRequest):
    scheduled_time: AwareDatetime
    """The schedule's firing time: the report covers the calendar month before it (the tenant's zone)."""


class ReferralReportResult(StepModel):
    month: str
    leads: int
    report_keys: list[str]
