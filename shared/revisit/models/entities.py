"""The records Revisit keeps: patients, recall cycles, staff tasks, communication attempts, appointments."""

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from revisit.domain.leads import LeadEvent, LeadStage
from revisit.domain.reactivation import Treatment
from revisit.models.common import (
    Channel,
    Email,
    Identifier,
    Language,
    MessageKind,
    PhoneE164,
    PlainText,
    Role,
)


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
ServiceCodeText = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{2,10}$")]
"""A service code as sent (D0120); whether the tenant knows it is the close-out's check, naming the field."""


class PatientStatus(StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"
    FOLLOW_UP = "Follow-up"


class RecallStatus(StrEnum):
    """The patient's recall state as front-desk staff see it (R7, R16)."""

    PENDING = "Pending recall"
    CONTACTED = "Contacted"
    BOOKED = "Booked"
    DECLINED = "Declined"
    OPTED_OUT = "Opted out"
    MANUAL_REVIEW = "Manual review"
    UNANSWERED = "No answer"
    NOT_NEEDED = "Not needed"


class RecallItem(Record):
    recall_type: Identifier
    last_done: date
    interval_months: int | None = Field(default=None, ge=0, le=120)
    """X2: this patient's own interval (a perio patient every 3 months), instead of the recall type's."""


class InsurancePolicy(Record):
    payer: PlainText = Field(min_length=1, max_length=100)
    member_id: PlainText = Field(min_length=1, max_length=64)
    plan: PlainText = Field(default="", max_length=100)
    valid_from: date
    valid_to: date | None = None
    covered_recall_types: list[Identifier] = []
    coverage_percent: int = Field(default=100, ge=0, le=100)
    category_percent: dict[Identifier, Annotated[int, Field(ge=0, le=100)]] = {}
    """I17: the plan's share per procedure category (billing.categories); empty: coverage_percent for all."""
    deductible: Money = Decimal("0")
    """I17: what the patient pays each benefit year before the plan pays (the clinic's currency); what this
    year's claims used is taken off at each close-out."""
    annual_maximum: Money | None = None
    """I17: the most the plan pays in a benefit year; None: no maximum."""


class CoverageStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    UNKNOWN = "unknown"


class EligibilityResult(Record):
    status: CoverageStatus
    payer: str | None = None
    plan: str | None = None
    coverage_percent: int | None = None
    covered_recall_types: list[Identifier] | None = None
    """X2: of the recall types asked about, those the policy covers (None: not asked per type)."""
    checked_at: AwareDatetime
    source: str
    member_id: str | None = None
    category_percent: dict[str, int] | None = None
    """I17: the plan's share per procedure category (None: the answer did not say; coverage_percent holds)."""
    deductible_remaining: Decimal | None = None
    maximum_remaining: Decimal | None = None
    plan_begin: date | None = None
    plan_end: date | None = None
    detail: str | None = None
    """Why the answer is unknown or inactive (a clearinghouse's rejection code), ids and codes only."""


class StatusChange(Record):
    at: AwareDatetime
    before: PatientStatus
    after: PatientStatus
    reason: str


class Patient(Record):
    patient_id: Identifier
    clinic_id: Identifier
    first_name: PlainText = Field(min_length=1)
    last_name: PlainText = Field(min_length=1)
    date_of_birth: date
    language: Language
    phone: PhoneE164 | None = None
    email: Email | None = None
    sms_consent: bool = False
    email_consent: bool = False
    opted_out: bool = False
    """Wants no contact at all: no message of any kind, no recall (staff or the API set it)."""
    unsubscribed: list[MessageKind] = []
    """Kinds of message the patient refused on every channel (an email's unsubscribe link, the API)."""
    status: PatientStatus = PatientStatus.ACTIVE
    recall_status: RecallStatus | None = None
    last_visit: date | None = None
    recalls: list[RecallItem] = []
    insurance: list[InsurancePolicy] = []
    latest_eligibility: EligibilityResult | None = None
    """R17: the last verification of the primary policy (API or recall)."""
    next_appointment_at: AwareDatetime | None = None
    version: int = Field(default=0, ge=0)
    """Bumped by every write: a change made from an older read is refused (no lost updates)."""
    recall_cycle_id: str | None = None
    """The due date of the latest recall cycle opened for this patient (never reopened)."""
    recall_from: date | None = None
    """X1, X3: the next recall cycle opens no earlier than this (after a cancelled or missed recall visit,
    or a ladder nobody answered)."""
    phone_invalid: bool = False
    """A call found the number wrong: no SMS or call to it until the phone changes."""
    treatment: Treatment = Treatment.GENERAL
    """A4: what the patient is treated for (the segment a reactivation message speaks to)."""
    retention_score: int | None = Field(default=None, ge=0, le=100)
    """R25: how reliably the patient keeps their recall (domain/reactivation.retention_score); call queues
    put the likelier to book first."""
    status_history: list[StatusChange] = []
    """I3: every change of `status`, oldest first (the last 20)."""
    planned_treatment: bool = False
    """I13: a treatment plan from a visit has procedures not booked yet (reactivation reads it, A4)."""

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class CycleStatus(StrEnum):
    PENDING = "Pending"
    CONTACTED = "Contacted"
    MANUAL_REVIEW = "ManualReview"
    BOOKED = "Booked"
    DECLINED = "Declined"
    OPTED_OUT = "OptedOut"
    UNANSWERED = "Unanswered"
    """X3: the ladder reached no booking and a newer cycle took over."""
    NOT_NEEDED = "NotNeeded"

    @property
    def is_open(self) -> bool:
        return self in (CycleStatus.PENDING, CycleStatus.CONTACTED, CycleStatus.MANUAL_REVIEW)

    @property
    def recall_status(self) -> "RecallStatus":
        """What the patient's record shows while this is its latest cycle (R7, R16)."""
        return RecallStatus[self.name]


class RecallCycle(Record):
    """One patient's walk through the contact ladder for one due date."""

    patient_id: Identifier
    cycle_id: str
    """The recall due date, ISO: one cycle per patient and due date."""
    clinic_id: Identifier
    patient_name: str
    recall_due_date: date
    recall_types: list[Identifier]
    status: CycleStatus = CycleStatus.PENDING
    step_index: int = 0
    next_contact_at: AwareDatetime
    last_contact_at: AwareDatetime | None = None
    last_channel: Channel | None = None
    attempts: int = 0
    """Contacts that reached the patient (SMS, email); staff work is counted in staff_tasks."""
    staff_tasks: int = 0
    rebook: bool = False
    """X1: opened because a booked recall visit did not happen: its messages ask for a new date."""
    days_since_last_visit: int | None = None
    suggested_visit_date: date | None = None
    eligibility: EligibilityResult | None = None
    execution_name: str
    opened_at: AwareDatetime
    closed_at: AwareDatetime | None = None
    close_reason: str | None = None


class TaskKind(StrEnum):
    RECALL = "recall"  # R4: front desk books the recall
    CHART_REVIEW = "chart_review"  # R8: hygienist reviews the chart
    RECALL_CALL = "recall_call"  # ladder: front desk phones the patient
    MANUAL_REVIEW = "manual_review"  # R15
    ADMIN_FOLLOW_UP = "admin_follow_up"  # R27
    LEAD_DENTIST_REVIEW = "lead_dentist_review"  # R12
    PATIENT_REPLY = "patient_reply"  # a two-way SMS reply no rule understood: the front desk answers it
    DELIVERY_CHECK = "delivery_check"  # a send interrupted mid-way: did the message reach the patient?
    VISIT_INSTRUCTIONS = "visit_instructions"  # no message can carry them in time: the front desk phones
    APPOINTMENT_DECLINED = "appointment_declined"  # the patient answered no: rebook or cancel with them
    ASSIGN_LEAD = "assign_lead"  # F4: the senior registrar picks who calls about a doctor's order
    REFERRAL_CALL = "referral_call"  # F5: the assigned registrar calls about a doctor's order
    REACTIVATION_CALL = "reactivation_call"  # A5: the front desk phones an inactive patient of a campaign
    ONBOARDING = "onboarding"  # I1, I2: the front office completes a new patient's forms, consent, card, data
    PRE_VISIT = "pre_visit"  # I6: the hygienist prepares a new patient's first visit
    INSURANCE_CHECK = "insurance_check"  # I16: coverage unknown or inactive: the office checks before billing
    NEXT_VISIT = "next_visit"  # I14: the hygienist books the next visit the treatment plan needs


class TaskPriority(StrEnum):
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class CallResult(StrEnum):
    BOOKED = "booked"
    CALL_BACK = "call_back"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    DECLINED = "declined"


class StaffTask(Record):
    task_id: str
    kind: TaskKind
    role: Role
    clinic_id: Identifier
    priority: TaskPriority
    status: TaskStatus = TaskStatus.OPEN
    title: str
    """Ids and counts only: the task list is read on shared screens."""
    due_at: AwareDatetime
    created_at: AwareDatetime
    patient_id: Identifier | None = None
    cycle_id: str | None = None
    closed_at: AwareDatetime | None = None
    result: CallResult | None = None
    reason: str | None = None
    assignee: Identifier | None = None
    """The staff member the task is for (a referral call's registrar); none: anyone with the role."""
    lead_id: str | None = None
    campaign_id: str | None = None
    retention_score: int | None = None
    """R25: the patient's score when the task was made: a queue calls the likelier to book first."""


class AttemptOutcome(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    TASK_CREATED = "task_created"
    SKIPPED_NO_CONSENT = "skipped_no_consent"
    SKIPPED_NO_ADDRESS = "skipped_no_address"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    """A previous try claimed the send and died before recording it; never sent again."""
    RECEIVED = "received"
    """A reply from the patient (two-way SMS)."""


class CommunicationAttempt(Record):
    """R24: every call, SMS and email attempt, on the patient's file. Doubles as the send ledger."""

    patient_id: Identifier
    cycle_id: str
    step: Identifier
    channel: Channel
    outcome: AttemptOutcome
    at: AwareDatetime
    language: Language | None = None
    message_id: str | None = None
    text: str | None = None
    """The message as sent (an SMS's text; an email's subject and text): the patient file shows it (R24)."""
    task_id: str | None = None
    sms_segments: int | None = None
    sms_encoding: str | None = None
    detail: str | None = None


class StaffNotice(Record):
    """A message to staff (the lead dentist's alert, the administrator's summary) and its ledger row: sent
    once per kind and key, like a patient's message."""

    kind: Identifier
    key: str
    """What makes it once: the night, the clinic, the recipient."""
    outcome: AttemptOutcome
    at: AwareDatetime
    message_id: str | None = None
    detail: str | None = None


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


class ConfirmationStatus(StrEnum):
    """X7: where the patient's confirmation of a booked appointment stands (the front desk's morning list)."""

    UNCONFIRMED = "unconfirmed"
    SENT = "sent"
    """A confirmation request (the confirmation or a reminder) reached the patient; no answer yet."""
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    FAILED = "failed"
    """No confirmation request could reach the patient (no channel, or the provider refused)."""


class Appointment(Record):
    appointment_id: str
    patient_id: Identifier
    clinic_id: Identifier
    appointment_type: str
    starts_at: AwareDatetime
    status: AppointmentStatus = AppointmentStatus.BOOKED
    created_at: AwareDatetime
    provider_id: Identifier | None = None
    ends_at: AwareDatetime | None = None
    booked_by: str | None = None
    """The integrator (or 'staff', 'recall') that booked it."""
    updated_at: AwareDatetime | None = None
    cancel_reason: str | None = None
    confirmed_at: AwareDatetime | None = None
    """The patient confirmed (a reply to the confirmation or the reminder)."""
    confirmation: ConfirmationStatus = ConfirmationStatus.UNCONFIRMED
    confirmation_at: AwareDatetime | None = None
    """When the confirmation status last changed (never touches updated_at: the notices plan from that)."""


class IdempotencyRecord(Record):
    """What an integrator's Idempotency-Key booked: a retry with the same request replays it."""

    request_hash: str
    patient_id: Identifier
    appointment_id: str


class RecordView(Record):
    """Issue 15: one view of a patient's record in the staff console (who, which patient, when, what part)."""

    staff_id: Identifier
    role: str
    patient_id: Identifier
    at: AwareDatetime
    part: str
    """'timeline' or 'clinical': what the screen showed."""


class LinkPurpose(StrEnum):
    BOOK = "book"
    """A recall cycle's: the patient picks a time."""
    APPOINTMENT = "appointment"
    """An appointment's (its email notices): the patient confirms or cancels it."""


class BookingLink(Record):
    """X11: a patient's link to their own booking page, for a recall cycle or an appointment. Its id is the
    link's whole credential (the first 120 bits of the tenant key's HMAC of the cycle or appointment): the URL
    names no patient and cannot be guessed."""

    link_id: str
    purpose: LinkPurpose = LinkPurpose.BOOK
    patient_id: Identifier
    cycle_id: str | None = None
    clinic_id: Identifier
    appointment_type: Identifier
    issued_at: AwareDatetime
    valid_until: AwareDatetime
    form_key: str
    """The secret the page's form tokens are made with (CSRF), known only to this link's record."""
    appointment_id: str | None = None
    """The appointment it is for, or (a recall cycle's) the one the patient booked from the page."""


class IntegratorCredential(Record):
    """An integrator's API credential as stored: the SHA-256 of its secret, never the secret."""

    key_id: str
    name: str
    tenant_id: str
    secret_sha256: str
    revoked: bool = False
    rate_per_second: int = Field(default=10, ge=1)
    clinics: list[Identifier] = []
    """The clinics it may see and book at; empty: every clinic of the tenant."""


class PaymentMethod(StrEnum):
    CARD = "card"
    CASH = "cash"
    INSURANCE = "insurance"
    TRANSFER = "transfer"
    OTHER = "other"


class Payment(Record):
    """A payment against an appointment; `payment_id` is the integrator's own reference (idempotent)."""

    payment_id: Identifier
    appointment_id: str
    patient_id: Identifier
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    method: PaymentMethod
    at: AwareDatetime


class Lead(Record):
    """A doctor's order for a control procedure by a due date, and its follow-up (F1-F11). `notes` is clinical
    text: shown to staff, never logged, never in an event or a report."""

    lead_id: str
    patient_id: Identifier
    clinic_id: Identifier
    procedure_id: Identifier
    appointment_type: Identifier
    ordered_by: str
    """The ordering doctor, as the order names them."""
    due_date: date
    notes: str = ""
    stage: LeadStage = LeadStage.NEW
    assignee: Identifier | None = None
    appointment_id: str | None = None
    call_at: AwareDatetime | None = None
    """The next call reminder (F3, F10, a retry after no answer)."""
    call_attempts: int = 0
    """Unanswered calls since the lead was last assigned or sent back."""
    calls_made: int = 0
    """Every call recorded on the lead, answered or not (the monthly report's)."""
    refusal_reason: str | None = None
    comment: str = ""
    """F2, F8: generated in the clinic's language from the order and the last call's answers."""
    ordered_at: AwareDatetime
    ordered_month: str
    """yyyy-mm of the order in the tenant's zone: the monthly report it belongs to."""
    booked_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    waiting_token: str | None = None
    """The referral execution's task token while it waits on this lead (answered by whoever moves it)."""
    waiting_for: str | None = None
    version: int = 0


class LeadEntry(Record):
    """One line of a lead's timeline: what happened, who did it, and what it changed (or why it did not)."""

    lead_id: str
    sequence: int
    at: AwareDatetime
    event: LeadEvent
    by: str
    """A staff id, `doctor`, `events` (the booking API's events) or `workflow`."""
    stage_before: LeadStage
    stage_after: LeadStage
    applied: bool = True
    """False: the event came too late or twice and changed nothing (kept for the record)."""
    detail: str = ""


class CampaignStatus(StrEnum):
    RUNNING = "running"
    ENDED = "ended"


class Campaign(Record):
    """A5: a reactivation campaign: the segments it targets and its goal (patients recovered by a date)."""

    campaign_id: Identifier
    name: PlainText
    clinics: list[Identifier] = []
    treatments: list[Treatment] = []
    age_bands: list[str] = []
    lapse_bands: list[str] = []
    goal_patients: int = Field(ge=1)
    goal_date: date
    created_at: AwareDatetime
    status: CampaignStatus = CampaignStatus.RUNNING
    targeted: int = 0
    """Patients the selection found in the segments (started or skipped)."""


class MemberOutcome(StrEnum):
    IN_PROGRESS = "in_progress"
    RECOVERED = "recovered"  # booked a visit
    RESPONDED = "responded"  # answered without booking (a reply, an observation), or declined
    NEVER_REACHED = "never_reached"
    OPTED_OUT = "opted_out"
    SKIPPED = "skipped"  # in a recall cycle, a future appointment, another campaign, nothing reachable


class CampaignMember(Record):
    """A patient in a campaign: how far down the chain they went and how it ended (A8)."""

    campaign_id: Identifier
    patient_id: Identifier
    clinic_id: Identifier
    treatment: Treatment
    outcome: MemberOutcome = MemberOutcome.IN_PROGRESS
    link_index: int = 0
    """The next link to send."""
    channels_sent: list[Channel] = []
    first_contact_at: AwareDatetime | None = None
    responded_at: AwareDatetime | None = None
    responded_after: Channel | None = None
    """The last link sent before the response (which link worked)."""
    detail: str = ""
    observations: list[str] = []
    """A6: what the team noted on the contacted patient (staff text, never logged)."""
    version: int = 0
    """Bumped by every write: the chain's step and the team's observation never overwrite each other."""


class IntakeRecord(Record):
    """I1-I6, I15: a new patient's intake, listed under the clinic and day of their first booking."""

    patient_id: Identifier
    clinic_id: Identifier
    day: date
    """The clinic's local day of the first booking (the daily intake report's)."""
    registered_at: AwareDatetime
    appointment_id: str
    appointment_type: Identifier
    starts_at: AwareDatetime
    missing: list[str] = []
    """I1: the core data fields missing or implausible, by name."""
    onboarding_task_id: str
    pre_visit_task_id: str | None = None
    notices_execution: str
    """I7, I8: the appointment's notices (confirmation email, 24-hour SMS reminder) run in this execution."""
    coverage: CoverageStatus | None = None
    """I16: the eligibility answer for the first visit (None: not checked yet)."""


class VisitLine(Record):
    code: ServiceCodeText
    category: Identifier
    tooth: str | None = None
    fee: Money
    deductible: Money = Decimal("0")
    insurance: Money = Decimal("0")
    patient: Money = Decimal("0")


class Finding(Record):
    finding: Identifier
    tooth: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,3}$")] | None = None


class PerformedProcedure(Record):
    code: ServiceCodeText
    tooth: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,3}$")] | None = None


class VisitStage(StrEnum):
    RECORDED = "recorded"  # I9: the record is stored; the close-out runs
    PRICED = "priced"  # I11, I12
    BILLED = "billed"  # I10, I16, I17
    CLOSED = "closed"  # I13, I14


class Visit(Record):
    """I9-I17: what happened at a visit and what it costs. `note` is clinical text: stored in the table
    (encrypted with the tenant's key), shown to clinical staff, never logged, never in an execution."""

    appointment_id: str
    patient_id: Identifier
    clinic_id: Identifier
    provider_id: Identifier | None = None
    performed: list[PerformedProcedure]
    findings: list[Finding] = []
    note: str = ""
    recorded_at: AwareDatetime
    recorded_by: str
    stage: VisitStage = VisitStage.RECORDED
    currency: str | None = None
    lines: list[VisitLine] = []
    total: Money | None = None
    insurance_portion: Money | None = None
    patient_portion: Money | None = None
    coverage: CoverageStatus | None = None
    claim_id: str | None = None
    plan_items: int | None = None
    next_visit_task_id: str | None = None
    execution_name: str


class ClaimChange(Record):
    at: AwareDatetime
    before: str | None = None
    after: str
    by: str


class Claim(Record):
    """I10: what the visit asks the payer for (the insurance portion), and where it stands."""

    claim_id: str
    patient_id: Identifier
    appointment_id: str
    clinic_id: Identifier
    payer: str
    member_id: str
    currency: str
    amount: Money
    """The insurance portion asked of the payer."""
    deductible: Money = Decimal("0")
    """What of the visit went to the patient's deductible (the year's remaining deductible shrinks by it)."""
    benefit_year: int
    status: str = "draft"
    history: list[ClaimChange] = []
    version: int = 0


class PlanItem(Record):
    finding: Identifier
    code: ServiceCodeText
    tooth: str | None = None
    fee: Money
    status: str = "planned"


class TreatmentPlan(Record):
    """I13: the draft plan from a visit's findings (the dentist presents it; the next visit books it)."""

    plan_id: str
    patient_id: Identifier
    clinic_id: Identifier
    appointment_id: str
    status: str = "draft"
    currency: str
    items: list[PlanItem]
    estimate: Money
    created_at: AwareDatetime


class BilledVisit(Record):
    """A visit's money, listed under its clinic and day (the daily report's billing figures): ids and amounts."""

    appointment_id: str
    patient_id: Identifier
    clinic_id: Identifier
    day: date
    currency: str
    total: Money
    insurance_portion: Money
    patient_portion: Money
    coverage: str
    claim_id: str | None = None
