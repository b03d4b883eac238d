"""The input and output of every workflow step: what the ASL passes in, what the Lambda returns.

State carries ids, dates and counts only. No names, phones, emails or notes travel through an
execution, because ops read executions in the console.
"""

from __future__ import annotations

from datetime import UTC, date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, field_serializer

from revisit.models.common import Channel, Identifier


class StepModel(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class StepRequest(StepModel):
    execution_name: str
    """The correlation id every log line of the step carries."""


# --- Recall (one execution per patient and cycle) -------------------------------------------


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


# --- Nightly sweep ---------------------------------------------------------------------------


class SweepInput(StepModel):
    """What starts a sweep: the schedule passes its scheduled time; a person may pass a run date."""

    model_config = ConfigDict(extra="ignore", defer_build=True)
    run_date: date | None = None
    scheduled_time: AwareDatetime | None = None


class PlanSweepRequest(StepRequest):
    input: SweepInput


class ClinicSweep(StepModel):
    """One page of one clinic's due patients: what a SweepClinic execution is started with."""

    clinic_id: Identifier
    run_date: date
    horizon_date: date
    run_id: str
    page: int = 1
    page_token: str | None = None
    execution_name: str
    """This page's execution: sweep-<clinic>-<run date>-p<page>-<run id>."""


class PlanSweepResult(StepModel):
    run_date: date
    horizon_date: date
    clinics: list[ClinicSweep]


class SelectDueRequest(StepRequest):
    clinic_id: Identifier
    run_date: date
    horizon_date: date
    page_token: str | None = None
    page: int = 1
    run_id: str = "manual"


class RecallToStart(StepModel):
    name: str
    input: dict


class SelectDueResult(StepModel):
    recalls: list[RecallToStart]
    next_page_token: str | None
    items_read: int
    next_page: ClinicSweep | None = None
    """The next page's execution, if there is one and tonight's capacity allows it."""
    capacity_reached: bool = False


class RunDateRequest(StepRequest):
    run_date: date


class UpcomingCount(StepModel):
    due_next_30_days: int
    in_recall: int


class ReportResult(StepModel):
    keys: list[str]
    rows: int


class AlertResult(StepModel):
    task_ids: list[str]
    pending_cases: int


class AdminSummaryRequest(StepRequest):
    run_date: date
    due_next_30_days: int
    in_recall: int
    report_keys: list[str]


class AdminSummaryResult(StepModel):
    sent: bool
    message_id: str | None = None


# --- Appointment notices (one execution per appointment and version) ------------------------


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


# --- Referral follow-up (one execution per lead, named lead-<lead id>) ----------------------------


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


# --- Reactivation (one campaign execution, one execution per patient of the campaign) -------------


class CampaignPage(StepRequest):
    campaign_id: Identifier
    clinic_index: int = 0
    token: str | None = None


class CampaignPageResult(StepModel):
    done: bool
    clinic_index: int
    token: str | None
    started: int


class ReactivationRef(StepRequest):
    campaign_id: Identifier
    patient_id: Identifier
    failed: bool = False


class ReactivationStep(StepModel):
    done: bool
    outcome: str
    next_at: AwareDatetime | None = None
    """When to look again (the next link, the send window, the answer time)."""

    @field_serializer("next_at")
    def _utc(self, value: AwareDatetime | None) -> str | None:
        """Step Functions' Wait reads it: UTC, 'Z'."""
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


# --- Intake (one execution per new patient) and visit close-out (one per appointment) ------------


class IntakeRef(StepRequest):
    patient_id: Identifier
    appointment_id: str


class IntakeResult(StepModel):
    clinic_id: Identifier
    day: date
    """The clinic's local day of the first booking (the intake record's partition)."""
    missing: int
    """I1: core data fields missing or implausible (the onboarding task lists them)."""
    insured: bool
    """A policy is on file: the coverage is verified (I16)."""
    pre_visit_task: bool


class CoverageRequest(StepRequest):
    patient_id: Identifier
    appointment_id: str
    clinic_id: Identifier
    day: date


class CoverageResult(StepModel):
    coverage: Literal["active", "inactive", "unknown"]
    task: bool
    """Not active: the office checks the insurance before billing (an insurance_check task)."""


class VisitRef(StepRequest):
    patient_id: Identifier
    appointment_id: str


class VisitPriced(StepModel):
    currency: str
    total: str
    """Decimal as text: money never travels as a float."""
    lines: int
    findings: int


class VisitBilled(StepModel):
    coverage: Literal["active", "inactive", "unknown", "none"]
    claim_id: str | None = None
    insurance_portion: str
    patient_portion: str


class VisitPlanned(StepModel):
    plan_items: int
    next_visit_task: bool


class IntakeReportRequest(StepRequest):
    scheduled_time: AwareDatetime
    """The schedule's firing time: the report covers the day before it, in each clinic's zone."""


class IntakeReportResult(StepModel):
    day: date
    patients: int
    report_keys: list[str]
