"""What the services need from the outside world: the repositories of a tenant's data and the outside
services. Adapters implement these for AWS (revisit.adapters); the tests have in-memory fakes
(tests/fakes.py) that the data-layer contract holds to the same behaviour."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from revisit.domain.availability import Busy
from revisit.models.entities import (
    Appointment,
    AppointmentStatus,
    BilledVisit,
    BookingLink,
    Campaign,
    CampaignMember,
    Claim,
    CommunicationAttempt,
    ConfirmationStatus,
    CycleStatus,
    EligibilityResult,
    IdempotencyRecord,
    InsurancePolicy,
    IntakeRecord,
    IntegratorCredential,
    Lead,
    LeadEntry,
    Patient,
    Payment,
    RecallCycle,
    RecordView,
    StaffNotice,
    StaffTask,
    TaskStatus,
    TreatmentPlan,
    Visit,
)


# --- repositories (one tenant each; raise revisit.errors: NotFound, Conflict, TransientError) ----------
class PatientRepository(Protocol):
    def get(self, patient_id: str) -> Patient: ...

    def save(self, patient: Patient) -> None:
        """As it is, whatever is stored (seeding, imports)."""
        ...

    def update(self, patient: Patient) -> Patient:
        """A change to the record read at `patient.version`: Conflict if anything wrote it since."""
        ...

    def create(self, patient: Patient) -> None:
        """Conflict if the patient exists already."""
        ...

    def save_many(self, patients: list[Patient]) -> None: ...

    def by_phone(self, phone: str) -> list[Patient]:
        """Everyone with this mobile number (a family may share one)."""
        ...

    def set_opted_out(self, patient_id: str, opted_out: bool) -> None: ...

    def due_page(self, clinic_id: str, horizon: date, page_size: int,
                 page_token: str | None) -> tuple[list[dict[str, Any]], str | None, int]:
        """R1: one page of patients due on or before `horizon` who can be recalled (entries with patient_id,
        clinic_id, recall_due_date), the next page token, and the items read (never a scan)."""
        ...

    def count_due(self, clinic_id: str, horizon: date) -> int: ...

    def inactive(self, clinic_id: str, on: date, limit: int = 500, after: str | None = None
                 ) -> tuple[list[dict], str | None]:
        """A1, A2: a page of the clinic's inactive patients (index entries), and the next page's token."""
        ...

    def count_inactive(self, clinic_id: str, on: date) -> int: ...


class RecallCycleRepository(Protocol):
    def open(self, cycle: RecallCycle) -> None:
        """Creates the cycle once (Conflict the second time) and takes the patient off the due index."""
        ...

    def mark_patient_in_cycle(self, cycle: RecallCycle) -> None: ...

    def get(self, patient_id: str, cycle_id: str) -> RecallCycle: ...

    def record_progress(self, cycle: RecallCycle, *, step_index: int, next_contact_at: datetime,
                        status: CycleStatus | None = None, contacted_at: datetime | None = None,
                        channel: str | None = None) -> None:
        """One rung on, conditional on the rung read and the cycle still open (else Conflict)."""
        ...

    def close(self, cycle: RecallCycle, status: CycleStatus, reason: str, at: datetime) -> bool:
        """False if it was closed already: a closed cycle never changes again."""
        ...

    def record_eligibility(self, cycle: RecallCycle, result: EligibilityResult) -> None: ...

    def open_cycles(self, clinic_id: str) -> Iterator[RecallCycle]: ...

    def count_open(self, clinic_id: str, status: CycleStatus | None = None) -> int: ...

    def for_patient(self, patient_id: str) -> list[RecallCycle]: ...


Entry = TypeVar("Entry", CommunicationAttempt, StaffNotice)


class SendLedger(Protocol[Entry]):
    """Rows that make a send happen once (services/delivery.py is the one mechanism over them)."""

    def claim(self, entry: Entry) -> Entry | None:
        """None if this call owns the send; else the row a former call claimed (never send it again)."""
        ...

    def record(self, entry: Entry) -> None: ...

    def mark_unconfirmed(self, entry: Entry, detail: str) -> bool:
        """A claim still SENDING becomes UNCONFIRMED; True for the one caller that changed it."""
        ...

    def release(self, entry: Entry) -> None:
        """Gives a SENDING claim up after a send that certainly did not happen (Conflict if it is not one)."""
        ...


class AttemptRepository(SendLedger[CommunicationAttempt], Protocol):
    """R24's communication log, and the patients' send ledger: one row per patient, ledger id, step, channel."""

    def for_patient(self, patient_id: str) -> list[CommunicationAttempt]: ...

    def log_reply(self, rows: list[CommunicationAttempt], sms_consent: bool | None = None,
                  email_consent: bool | None = None) -> bool:
        """A reply's rows with the consent change it asks for, as one: False if it was logged before."""
        ...


class TaskRepository(Protocol):
    def create(self, task: StaffTask) -> bool:
        """False if a task with this (deterministic) id exists already."""
        ...

    def get(self, task_id: str) -> StaffTask: ...

    def close(self, task_id: str, status: TaskStatus, at: datetime, result: str | None = None,
              reason: str | None = None, outcome_after_cancel: bool = False) -> bool:
        """False if the task was not open (with `outcome_after_cancel`: nor cancelled without a result)."""
        ...

    def open_queue(self, clinic_id: str, role: str, limit: int = 100) -> list[StaffTask]:
        """A role's open tasks at one clinic, oldest due first."""
        ...


class AppointmentRepository(Protocol):
    def save(self, appointment: Appointment) -> None: ...

    def for_patient(self, patient_id: str) -> list[Appointment]: ...

    def get(self, patient_id: str, appointment_id: str) -> Appointment: ...

    def book(self, appointment: Appointment, idempotency: tuple[str, str, str] | None = None) -> None:
        """On the provider's schedule, race-safe. `idempotency` = (integrator, key, request hash).
        Raises SlotTaken or IdempotencyKeyReused."""
        ...

    def idempotency_record(self, integrator_id: str, key: str) -> IdempotencyRecord | None: ...

    def busy(self, provider_ids: list[str], first: datetime, last: datetime) -> tuple[list[Busy], int]:
        """These providers' booked time in [first, last) (as 15-minute cells), and the items read."""
        ...

    def move(self, appointment: Appointment, moved: Appointment) -> None:
        """Raises SlotTaken, or Conflict if the appointment changed meanwhile."""
        ...

    def change_status(self, appointment: Appointment, status: AppointmentStatus, at: datetime,
                      reason: str | None = None) -> Appointment:
        """Only a booked appointment changes (else Conflict); a cancelled one frees its time."""
        ...

    def set_confirmation(self, appointment: Appointment, status: ConfirmationStatus, at: datetime) -> bool:
        """On condition it is still booked at that time with the status it was read with; False if not."""
        ...

    def on_day(self, provider_ids: list[str], first: datetime, last: datetime) -> list[Appointment]:
        """Booked appointments of these providers starting in [first, last), by start time."""
        ...

    def payments_for(self, patient_id: str) -> dict[str, list[Payment]]:
        """The patient's payments, by appointment id."""
        ...

    def record_payment(self, payment: Payment) -> Payment:
        """Once per payment id: the stored payment (Conflict if the same id came with other details)."""
        ...


class StaffNoticeRepository(SendLedger[StaffNotice], Protocol):
    """Staff notices' send ledger: one row per kind and key (the night, the clinic, the recipient)."""


class BookingLinkRepository(Protocol):
    def issue(self, link: BookingLink) -> BookingLink:
        """Creates the link or extends the cycle's existing one (its form key and booking kept)."""
        ...

    def get(self, link_id: str) -> BookingLink | None: ...

    def booked(self, link: BookingLink, appointment: Appointment) -> bool:
        """False if a booking from this link was recorded first."""
        ...


class UnsubscribeLinkRepository(Protocol):
    def save(self, link_id: str, patient_id: str, kind: str) -> None: ...

    def target(self, link_id: str) -> tuple[str, str] | None:
        """(patient id, kind), or None for an id no email carried."""
        ...


class AuditRepository(Protocol):
    def record(self, view: RecordView) -> None: ...

    def on(self, day: date, limit: int = 10_000) -> list[RecordView]:
        """A UTC day's views of patients' records, oldest first."""
        ...


class CredentialRepository(Protocol):
    def add(self, credential: IntegratorCredential) -> None: ...

    def get(self, key_id: str) -> IntegratorCredential | None: ...

    def revoke(self, key_id: str) -> None:
        """NotFound if there is no such credential."""
        ...


class DailyCountRepository(Protocol):
    """A clinic's recall counters per local day (cycles opened, booked), for the report's week."""

    def add(self, clinic_id: str, day: date, name: str, amount: int = 1) -> None: ...

    def week(self, clinic_id: str, last_day: date) -> Counter[str]: ...

    def period(self, clinic_id: str, first: date, last_day: date) -> Counter[str]: ...

    def set(self, clinic_id: str, day: date, name: str, value: int) -> None: ...

    def day(self, clinic_id: str, day: date) -> Counter[str]: ...


class SmsSpendRepository(Protocol):
    def reserve(self, month: str, cost: Decimal, budget: Decimal | None) -> Decimal | None:
        """Adds `cost` to the month's spend if it stays within `budget` (atomically; no budget, always) and
        returns the month's spend with it; None if it would pass the budget."""
        ...

    def release(self, month: str, cost: Decimal) -> None:
        """Gives back a reservation whose message did not go."""
        ...

    def spent(self, month: str) -> Decimal: ...


class LeadRepository(Protocol):
    """Referral leads and their timelines (F1-F11)."""

    def create(self, lead: Lead, entry: LeadEntry) -> bool:
        """False if the lead exists already."""
        ...

    def get(self, lead_id: str) -> Lead: ...

    def timeline(self, lead_id: str) -> tuple[Lead, list[LeadEntry]]: ...

    def for_patient(self, patient_id: str) -> list[Lead]: ...

    def change(self, read: Lead, changed: Lead, entry: LeadEntry) -> bool:
        """On condition the stored lead is still at `read`'s version; False if it moved meanwhile."""
        ...

    def record(self, lead: Lead, entry: LeadEntry) -> None:
        """A timeline entry that changed nothing."""
        ...

    def open_in_stage(self, clinic_id: str, stage: str, limit: int = 200) -> list[Lead]: ...

    def ordered_in_month(self, clinic_id: str, month: str) -> list[Lead]: ...


class CampaignRepository(Protocol):
    """Reactivation campaigns, their patients, and the one-campaign-at-a-time lock (A5, A8)."""

    def create(self, campaign: Campaign) -> bool: ...

    def save(self, campaign: Campaign) -> None: ...

    def get(self, campaign_id: str) -> Campaign: ...

    def all(self) -> list[Campaign]: ...

    def add_member(self, member: CampaignMember) -> bool: ...

    def save_member(self, member: CampaignMember) -> CampaignMember:
        """On condition of the version read; TransientError if it changed meanwhile."""
        ...

    def member(self, campaign_id: str, patient_id: str) -> CampaignMember: ...

    def members(self, campaign_id: str) -> list[CampaignMember]: ...

    def lock(self, patient_id: str, campaign_id: str) -> bool: ...

    def unlock(self, patient_id: str, campaign_id: str) -> None: ...


class VisitRepository(Protocol):
    """Intake records (I1-I6, I15), visits (I9-I12, I17), claims (I10) and treatment plans (I13)."""

    def start_intake(self, record: IntakeRecord) -> bool:
        """False if the patient's intake was started already."""
        ...

    def intake(self, clinic_id: str, day: date, patient_id: str) -> IntakeRecord: ...

    def save_intake(self, record: IntakeRecord) -> None: ...

    def intakes_on(self, clinic_id: str, day: date) -> list[IntakeRecord]: ...

    def record_billed(self, billed: BilledVisit) -> None: ...

    def billed_on(self, clinic_id: str, day: date) -> list[BilledVisit]: ...

    def record_visit(self, visit: Visit) -> Visit | None:
        """None if this call recorded it; else the visit recorded first for the appointment (unchanged)."""
        ...

    def visit(self, patient_id: str, appointment_id: str) -> Visit: ...

    def save_visit(self, visit: Visit) -> None: ...

    def visits_for(self, patient_id: str) -> list[Visit]: ...

    def create_claim(self, claim: Claim) -> bool:
        """The claim and its id's pointer; False if it exists already."""
        ...

    def claim(self, claim_id: str) -> Claim: ...

    def change_claim(self, read: Claim, changed: Claim) -> bool:
        """On condition the stored claim is still at `read`'s version; False if it moved meanwhile."""
        ...

    def claims_for(self, patient_id: str) -> list[Claim]: ...

    def create_plan(self, plan: TreatmentPlan) -> bool: ...

    def plans_for(self, patient_id: str) -> list[TreatmentPlan]: ...


class Repositories(Protocol):
    """A tenant's data, one repository per aggregate."""

    patients: PatientRepository
    cycles: RecallCycleRepository
    attempts: AttemptRepository
    tasks: TaskRepository
    appointments: AppointmentRepository
    notices: StaffNoticeRepository
    credentials: CredentialRepository
    sms_spend: SmsSpendRepository
    daily_counts: DailyCountRepository
    leads: LeadRepository
    campaigns: CampaignRepository
    visits: VisitRepository
    booking_links: BookingLinkRepository
    unsubscribe_links: UnsubscribeLinkRepository
    audit: AuditRepository


# --- outside services ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str
    sender_id: str


@dataclass(frozen=True)
class EmailMessage:
    to: str
    sender: str
    subject: str
    text: str
    html: str
    attachments: tuple[tuple[str, str, bytes], ...] = ()
    """(file name, content type, bytes)"""
    unsubscribe_url: str | None = None
    """One-click unsubscribe (RFC 8058): sent as List-Unsubscribe and List-Unsubscribe-Post headers."""


class Notifier(Protocol):
    def send_sms(self, message: SmsMessage) -> str:
        """Returns the provider's message id. Raises TransientError or PermanentSendFailure (revisit.errors)."""
        ...

    def send_email(self, message: EmailMessage) -> str: ...


class LinkSigner(Protocol):
    """Signs the links patients click (an email's unsubscribe link): a key only the tenant holds (KMS HMAC on
    AWS), so a link names its patient and cannot be forged for another."""

    def sign(self, message: bytes) -> bytes: ...

    def verify(self, message: bytes, signature: bytes) -> bool: ...


class ReportStore(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> None: ...

    def keys(self, prefix: str = "reports/", limit: int = 1000) -> list[str]: ...

    def get(self, key: str) -> tuple[bytes, str] | None:
        """A report's bytes and content type, or None."""
        ...


class EligibilityProvider(Protocol):
    """R9/I16: is this patient covered for this visit? A clearinghouse on a real deployment."""

    name: str

    def verify(self, patient: Patient, policy: InsurancePolicy | None, service_date: date,
               recall_types: list[str] | None = None) -> EligibilityResult:
        """With `recall_types` (X2), the answer says which of them the policy covers."""
        ...


class WorkflowStarter(Protocol):
    """Starts and stops executions of the tenant's state machines by deterministic name."""

    def start(self, machine: str, name: str, payload: dict) -> bool:
        """False if an execution of that name exists already (never a second one)."""
        ...

    def stop(self, machine: str, name: str, cause: str) -> None: ...

    def answer(self, token: str, output: dict) -> bool:
        """Completes a task waiting for its token (`.waitForTaskToken`) with `output`; False if that task no
        longer waits (answered before, timed out, its execution ended)."""
        ...


class MetricsSink(Protocol):
    """Counts for the tenant's dashboards and alarms (CloudWatch embedded metrics on AWS)."""

    def count(self, name: str, value: int = 1) -> None: ...

    def gauge(self, name: str, value: float) -> None:
        """A level, not a count (the month's SMS spend so far): dashboards read its maximum."""
        ...


class EventPublisher(Protocol):
    """Publishes a change to the tenant's EventBridge bus (schemas: docs/events.md)."""

    def publish(self, detail_type: str, detail: dict) -> None: ...
