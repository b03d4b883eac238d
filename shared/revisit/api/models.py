"""What integrators send and get back. Field names are the API's contract (docs/openapi.json)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from revisit.models.common import Channel, Email, Identifier, Language, MessageKind, PhoneE164, PlainText
from revisit.models.entities import (
    AttemptOutcome,
    CallResult,
    CycleStatus,
    EligibilityResult,
    Finding,
    InsurancePolicy,
    PatientStatus,
    PaymentMethod,
    PerformedProcedure,
    RecallItem,
    RecallStatus,
    VisitLine,
)

PathId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
"""An id in a path: letters, digits and a few separators (anything else is a 422 naming it)."""


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Problem(BaseModel):
    """Every error the API itself answers."""

    status: int
    error: str
    field: str | None
    """The request field that is wrong (a body field, path or query parameter, or header), if one is."""


class GatewayMessage(BaseModel):
    """What API Gateway answers when the authorizer refuses (401, 403) or the usage plan throttles (429)."""

    message: str


class RecallHistory(Body):
    """X4: one recall type's history, as the practice-management system knows it."""

    recall_type: Identifier
    last_done: date
    interval_months: int | None = Field(default=None, ge=0, le=120)
    """This patient's own interval, instead of the recall type's (a perio patient every 3 months)."""


class NewPatient(Body):
    patient_id: Identifier
    clinic_id: Identifier
    first_name: PlainText = Field(min_length=1, max_length=100)
    last_name: PlainText = Field(min_length=1, max_length=100)
    date_of_birth: date
    language: Language
    phone: PhoneE164 | None = None
    email: Email | None = None
    sms_consent: bool = False
    email_consent: bool = False
    last_visit: date | None = None
    recalls: list[RecallHistory] = Field(default=[], max_length=20)
    treatment: Literal["orthodontics", "prosthesis", "periodontal", "general"] = "general"
    """A4: what the patient is treated for (the practice system's treatment plan): reactivation speaks to it."""


class PatientChanges(Body):
    """Names, contact details, consent, status and recall history; only the fields sent change."""

    first_name: PlainText | None = Field(default=None, min_length=1, max_length=100)
    last_name: PlainText | None = Field(default=None, min_length=1, max_length=100)
    date_of_birth: date | None = None
    language: Language | None = None

    phone: PhoneE164 | None = None
    email: Email | None = None
    sms_consent: bool | None = None
    email_consent: bool | None = None
    opted_out: bool | None = None
    unsubscribed: Annotated[list[MessageKind], AfterValidator(lambda kinds: list(dict.fromkeys(kinds)))] | None = Field(
        default=None, max_length=len(MessageKind))
    last_visit: date | None = None
    recalls: list[RecallHistory] | None = Field(default=None, max_length=20)
    """The whole recall history: replaces what is stored (the next due date follows)."""
    """Kinds of message refused on every channel (recall, marketing; care needs the channel consent only)."""
    status: PatientStatus | None = None
    treatment: Literal["orthodontics", "prosthesis", "periodontal", "general"] | None = None


class RecallScheduleEntry(BaseModel):
    """X2: one recall type of the patient, its own due date and where it stands."""

    recall_type: str
    last_done: date
    due_date: date
    interval_months: int | None
    status: Literal["in recall", "booked", "due", "not due"]


class PatientView(BaseModel):
    patient_id: str
    clinic_id: str
    first_name: str
    last_name: str
    date_of_birth: date
    language: Language
    phone: str | None
    email: str | None
    sms_consent: bool
    email_consent: bool
    opted_out: bool
    unsubscribed: list[MessageKind]
    status: PatientStatus
    recall_status: RecallStatus | None
    next_appointment_at: AwareDatetime | None
    last_visit: date | None
    recalls: list[RecallItem]
    recall_from: date | None
    phone_invalid: bool
    treatment: str = "general"
    retention_score: int | None = None
    """R25: 0-100, how reliably the patient keeps their recall (none: no recall history yet)."""
    recall_schedule: list[RecallScheduleEntry] = []


class SlotView(BaseModel):
    provider_id: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class AvailabilityView(BaseModel):
    clinic_id: str
    appointment_type: str
    slots: list[SlotView]


class NewBooking(Body):
    patient_id: Identifier
    clinic_id: Identifier
    appointment_type: Identifier
    provider_id: Identifier
    starts_at: AwareDatetime


class Move(Body):
    starts_at: AwareDatetime
    provider_id: Identifier | None = None
    """Another provider at the same clinic; the same one if left out."""


class NewPayment(Body):
    payment_id: Identifier
    """Your own reference: sending the same payment again records it once."""
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    method: PaymentMethod


class InsuranceView(BaseModel):
    primary: InsurancePolicy | None
    """R17: the most recent policy."""
    latest_verification: EligibilityResult | None


class Cancellation(Body):
    reason: PlainText | None = Field(default=None, max_length=200)


class ConfirmationAnswer(Body):
    """X7: what the patient told the front desk (or 'unconfirmed' to undo a mistaken entry)."""

    status: Literal["confirmed", "declined", "unconfirmed"]


class CallOutcome(Body):
    result: CallResult
    reason: Identifier | None = None
    """Required when the result is `declined`: one of the tenant's refusal reasons."""
    staff_id: Identifier | None = None
    """Who called (a staff member of the tenant file): the monthly recall-call report counts per caller (R26)."""


class StaffBooking(Body):
    """The console's booking for a call task's patient (the clinic and visit come from the task)."""

    provider_id: Identifier
    starts_at: AwareDatetime


class LeadCall(Body):
    """The console's call script for a doctor's order (F6): booked names the time it books."""

    outcome: Literal["booked", "refused", "no_answer"]
    refusal_reason: Identifier | None = None
    wants_contact_later: bool = False
    provider_id: Identifier | None = None
    starts_at: AwareDatetime | None = None


class CycleView(BaseModel):
    """One recall cycle of the patient: when it opened, for which types, how it ended (X3: every re-surfacing
    shows here)."""

    cycle_id: str
    recall_due_date: date
    recall_types: list[str]
    status: CycleStatus
    opened_at: AwareDatetime
    closed_at: AwareDatetime | None
    close_reason: str | None
    attempts: int
    staff_tasks: int
    rebook: bool


class ContactView(BaseModel):
    """R24: one message, staff task or reply on the patient's file (ids and outcomes; no message text)."""

    ledger: str
    step: str
    channel: Channel
    outcome: AttemptOutcome
    at: AwareDatetime
    message_id: str | None = None
    """The provider's id (SNS or SES): what to look up in its delivery logs when a patient says it never came."""
    task_id: str | None = None
    detail: str | None = None
    """Why it was not sent (the provider's refusal, an interrupted send), in operators' words."""


class PatientHistory(BaseModel):
    patient_id: str
    cycles: list[CycleView]
    contacts: list[ContactView]


# --- referral follow-up (F1-F11) -------------------------------------------------------------------
class NewOrder(Body):
    """F1: a doctor's order for a control procedure by a due date. `order_id` is the ordering system's own
    reference: it becomes the lead's id, and sending the same order again returns that lead."""

    order_id: Identifier
    patient_id: Identifier
    procedure_id: Identifier
    ordered_by: PlainText = Field(min_length=1, max_length=100)
    """The ordering doctor, as the comment names them ("Dr X ordered ...")."""
    due_date: date
    notes: PlainText | None = Field(default=None, max_length=1000)
    """Clinical text for the registrar: stored with the lead, never logged, never in an event or a report."""


class Assignment(Body):
    """F4: the senior registrar assigns (or reassigns) the registrar who calls."""

    registrar_id: Identifier
    assigned_by: Identifier | None = None


class LeadCallOutcome(Body):
    """F6: the call script's answers. `booked` names the appointment booked on the call; `refused` one of the
    tenant's refusal reasons; `no_answer` is tried again per the tenant's rule, then the lead fails."""

    outcome: Literal["booked", "refused", "no_answer"]
    registrar_id: Identifier | None = None
    appointment_id: Identifier | None = None
    refusal_reason: Identifier | None = None
    wants_contact_later: bool = False
    """Refused for now, but asks to be contacted later (goes into the lead's comment)."""


class LeadView(BaseModel):
    """A lead as staff read it (the notes included: staff only, behind the integrator's credential)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    lead_id: str
    patient_id: str
    clinic_id: str
    procedure_id: str
    appointment_type: str
    ordered_by: str
    due_date: date
    notes: str
    stage: Literal["new", "assigned", "booked", "success", "failed"]
    assignee: str | None
    appointment_id: str | None
    call_at: AwareDatetime | None
    call_attempts: int
    refusal_reason: str | None
    comment: str
    ordered_at: AwareDatetime
    booked_at: AwareDatetime | None
    closed_at: AwareDatetime | None
    execution_name: str
    """The referral execution's name in the Step Functions console."""


class TimelineEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    at: AwareDatetime
    event: str
    by: str
    stage_before: str
    stage_after: str
    applied: bool
    detail: str


class LeadTimeline(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    lead: LeadView
    timeline: list[TimelineEntry]


# --- reactivation (A1-A8) --------------------------------------------------------------------------
class NewCampaign(Body):
    """A5: a campaign over segments of the inactive patients (an empty list is every value), with a goal."""

    campaign_id: Identifier
    name: PlainText = Field(min_length=1, max_length=100)
    clinics: list[Identifier] = []
    treatments: list[Literal["orthodontics", "prosthesis", "periodontal", "general"]] = []
    age_bands: list[str] = []
    """Of 0-17, 18-34, 35-49, 50-64, 65+."""
    lapse_bands: list[str] = []
    """Time since the last visit: of 'under 12 months', '12-23 months', '24-47 months', '48 months or more'."""
    goal_patients: int = Field(ge=1, le=100_000)
    goal_date: date


class Observation(Body):
    """A6: what the team learnt of a contacted patient; `responded` ends their chain (they answered)."""

    note: PlainText = Field(min_length=1, max_length=500)
    responded: bool = False


# --- visit close-out and billing (I9-I17) ----------------------------------------------------------
class NewVisit(Body):
    """I9: what was done at the visit and what the examination found. `note` is clinical text: stored
    encrypted with the visit, never logged, never in an event, an execution or a report."""

    performed: list[PerformedProcedure] = Field(min_length=1, max_length=40)
    findings: list[Finding] = Field(default=[], max_length=40)
    note: PlainText | None = Field(default=None, max_length=4000)
    recorded_by: Identifier | None = None
    """The staff member who closes the visit (their staff id)."""


class VisitView(BaseModel):
    """The visit as billing sees it: procedures, fees, the split, the claim; the note is not shown here."""

    appointment_id: str
    patient_id: str
    clinic_id: str
    stage: str
    performed: list[PerformedProcedure]
    findings: list[Finding]
    has_note: bool
    recorded_at: datetime
    currency: str | None = None
    lines: list[VisitLine] = []
    total: Decimal | None = None
    insurance_portion: Decimal | None = None
    patient_portion: Decimal | None = None
    coverage: str | None = None
    claim_id: str | None = None
    plan_items: int | None = None
    execution_name: str


class ClaimMove(Body):
    """I10: the claim's next status (draft, submitted, accepted, paid, denied: forward only)."""

    status: Literal["draft", "submitted", "accepted", "paid", "denied"]
    by: Identifier | None = None


class TaskDone(Body):
    """A non-call task done (onboarding, pre-visit, insurance check, next visit), by whom."""

    staff_id: Identifier | None = None
