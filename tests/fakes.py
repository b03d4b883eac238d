"""In-memory fakes of every port (revisit.ports). Service tests run on them in milliseconds. They are held
to the DynamoDB adapters' behaviour by the same contract (tests/data/test_repositories.py runs on moto,
DynamoDB Local and these), so a fake cannot drift from what AWS does."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from revisit.adapters.eligibility import StoredCoverageEligibility
from revisit.domain.availability import GRID, Busy, grid_cells
from revisit.domain.reactivation import inactive_from
from revisit.domain.recall_dates import can_start_cycle, cycle_date, next_due_recall
from revisit.errors import Conflict, IdempotencyKeyReused, NotFound, SlotTaken, TransientError
from revisit.models.entities import (
    Appointment,
    AppointmentStatus,
    AttemptOutcome,
    BilledVisit,
    Campaign,
    CampaignMember,
    Claim,
    CommunicationAttempt,
    ConfirmationStatus,
    CycleStatus,
    EligibilityResult,
    IdempotencyRecord,
    IntakeRecord,
    IntegratorCredential,
    Lead,
    LeadEntry,
    Patient,
    PatientStatus,
    Payment,
    RecallCycle,
    RecallStatus,
    StaffTask,
    TaskStatus,
    TreatmentPlan,
    Visit,
)
from revisit.models.tenant import TenantConfig
from revisit.ports import EmailMessage, SmsMessage
from revisit.services.context import TenantContext


class FakePatients:
    def __init__(self, config: TenantConfig) -> None:
        self.rows: dict[str, Patient] = {}
        self._recall_types = {rt.recall_type: rt for rt in config.recall_types}
        self._combine_days = config.sweep.lead_days
        self._inactive_after = config.reactivation.inactive_after_months

    def get(self, patient_id: str) -> Patient:
        if patient_id not in self.rows:
            raise NotFound("patient", patient_id)
        return self.rows[patient_id]

    def save(self, patient: Patient) -> None:
        self.rows[patient.patient_id] = patient

    def update(self, patient: Patient) -> Patient:
        stored = self.rows.get(patient.patient_id)
        if stored is None or stored.version != patient.version:
            raise Conflict(f"patient {patient.patient_id} changed or is in another state")
        self.rows[patient.patient_id] = patient.model_copy(update={"version": patient.version + 1})
        return self.rows[patient.patient_id]

    def change_fields(self, patient_id: str, **fields: Any) -> None:
        """A field-level write (the adapters' UpdateItem): bumps the version like every write."""
        patient = self.rows[patient_id]
        self.rows[patient_id] = patient.model_copy(update=fields | {"version": patient.version + 1})

    def create(self, patient: Patient) -> None:
        if patient.patient_id in self.rows:
            raise Conflict(f"patient {patient.patient_id} exists")
        self.save(patient)

    def save_many(self, patients: list[Patient]) -> None:
        for patient in patients:
            self.save(patient)

    def by_phone(self, phone: str) -> list[Patient]:
        return [p for p in sorted(self.rows.values(), key=lambda p: p.patient_id) if p.phone == phone]

    def set_opted_out(self, patient_id: str, opted_out: bool) -> None:
        self.get(patient_id)
        self.change_fields(patient_id, opted_out=opted_out)

    def _due(self, clinic_id: str, horizon: date) -> list[dict[str, Any]]:
        entries = []
        for patient in self.rows.values():
            due = next_due_recall(patient.recalls, self._recall_types, self._combine_days)
            opens = cycle_date(patient, due.due_date, self._combine_days) if due is not None else None
            if (patient.clinic_id == clinic_id and opens is not None and opens <= horizon
                    and can_start_cycle(patient, opens)):
                entries.append({"patient_id": patient.patient_id, "clinic_id": clinic_id,
                                "recall_due_date": opens.isoformat()})
        return sorted(entries, key=lambda e: (e["recall_due_date"], e["patient_id"]))

    def due_page(self, clinic_id: str, horizon: date, page_size: int,
                 page_token: str | None) -> tuple[list[dict[str, Any]], str | None, int]:
        # The token is the last key read, as DynamoDB's: patients leaving the index meanwhile skip no one.
        entries = [e for e in self._due(clinic_id, horizon)
                   if page_token is None or f"{e['recall_due_date']}#{e['patient_id']}" > page_token]
        page = entries[:page_size]
        more = len(entries) > page_size
        return page, f"{page[-1]['recall_due_date']}#{page[-1]['patient_id']}" if more else None, len(page)

    def count_due(self, clinic_id: str, horizon: date) -> int:
        return len(self._due(clinic_id, horizon))

    def _inactive(self, clinic_id: str, on: date) -> list[dict[str, Any]]:
        entries = []
        for patient in self.rows.values():
            if patient.clinic_id != clinic_id or patient.opted_out or patient.next_appointment_at is not None:
                continue
            since = (patient.last_visit or date(2000, 1, 1)) if patient.status == PatientStatus.INACTIVE else \
                inactive_from(patient.last_visit, self._inactive_after)
            if since is not None and since <= on:
                entries.append({"patient_id": patient.patient_id, "clinic_id": clinic_id,
                                "treatment": patient.treatment.value, "date_of_birth": patient.date_of_birth.isoformat(),
                                "last_visit": patient.last_visit.isoformat() if patient.last_visit else None,
                                "status": patient.status.value, "_key": f"{since.isoformat()}#{patient.patient_id}"})
        return sorted(entries, key=lambda e: e["_key"])

    def inactive(self, clinic_id: str, on: date, limit: int = 500, after: str | None = None):
        entries = [e for e in self._inactive(clinic_id, on) if after is None or e["_key"] > after]
        page = entries[:limit]
        more = len(entries) > limit
        return [{k: v for k, v in e.items() if k != "_key"} for e in page], page[-1]["_key"] if more else None

    def count_inactive(self, clinic_id: str, on: date) -> int:
        return len(self._inactive(clinic_id, on))


class FakeCycles:
    def __init__(self, patients: FakePatients) -> None:
        self.rows: dict[tuple[str, str], RecallCycle] = {}
        self._patients = patients

    def open(self, cycle: RecallCycle) -> None:
        key = (cycle.patient_id, cycle.cycle_id)
        if key in self.rows:
            raise Conflict(f"recall cycle {cycle.execution_name} exists")
        self.rows[key] = cycle
        self.mark_patient_in_cycle(cycle)

    def mark_patient_in_cycle(self, cycle: RecallCycle) -> None:
        patient = self._patients.rows.get(cycle.patient_id)
        if patient and (patient.recall_cycle_id is None or patient.recall_cycle_id <= cycle.cycle_id):
            self._patients.change_fields(cycle.patient_id, recall_cycle_id=cycle.cycle_id,
                                         recall_status=RecallStatus.PENDING)

    def get(self, patient_id: str, cycle_id: str) -> RecallCycle:
        if (patient_id, cycle_id) not in self.rows:
            raise NotFound("recall cycle", f"{patient_id}/{cycle_id}")
        return self.rows[(patient_id, cycle_id)]

    def record_progress(self, cycle: RecallCycle, *, step_index: int, next_contact_at: datetime,
                        status: CycleStatus | None = None, contacted_at: datetime | None = None,
                        channel: str | None = None) -> None:
        stored = self.get(cycle.patient_id, cycle.cycle_id)
        if stored.step_index != cycle.step_index or not stored.status.is_open:
            raise Conflict(f"recall cycle {cycle.execution_name} changed or is in another state")
        update: dict[str, Any] = {"step_index": step_index, "next_contact_at": next_contact_at}
        if status is not None:
            update["status"] = status
        if contacted_at is not None:
            counter = "attempts" if channel in ("sms", "email") else "staff_tasks"
            update |= {"last_contact_at": contacted_at, "last_channel": channel, counter: getattr(stored, counter) + 1}
        self.rows[(cycle.patient_id, cycle.cycle_id)] = RecallCycle.model_validate(stored.model_dump() | update)
        if status is not None and status != cycle.status:
            self._set_patient_status(cycle, status)

    def close(self, cycle: RecallCycle, status: CycleStatus, reason: str, at: datetime) -> bool:
        stored = self.get(cycle.patient_id, cycle.cycle_id)
        if not stored.status.is_open:
            return False
        self.rows[(cycle.patient_id, cycle.cycle_id)] = stored.model_copy(
            update={"status": status, "closed_at": at, "close_reason": reason})
        self._set_patient_status(cycle, status)
        return True

    def _set_patient_status(self, cycle: RecallCycle, status: CycleStatus) -> None:
        patient = self._patients.rows.get(cycle.patient_id)
        if patient and patient.recall_cycle_id == cycle.cycle_id:
            self._patients.change_fields(cycle.patient_id, recall_status=status.recall_status)

    def record_eligibility(self, cycle: RecallCycle, result: EligibilityResult) -> None:
        stored = self.get(cycle.patient_id, cycle.cycle_id)
        self.rows[(cycle.patient_id, cycle.cycle_id)] = stored.model_copy(update={"eligibility": result})

    def open_cycles(self, clinic_id: str) -> Iterator[RecallCycle]:
        yield from sorted((c for c in self.rows.values() if c.clinic_id == clinic_id and c.status.is_open),
                          key=lambda c: (c.recall_due_date, c.patient_id))

    def count_open(self, clinic_id: str, status: CycleStatus | None = None) -> int:
        return sum(1 for c in self.open_cycles(clinic_id) if status is None or c.status == status)

    def for_patient(self, patient_id: str) -> list[RecallCycle]:
        return [c for (p, _), c in sorted(self.rows.items()) if p == patient_id]


class FakeLedger:
    """A send ledger (patients' attempts or staff notices), by the same key rules as the DynamoDB rows."""

    def __init__(self, key_of) -> None:
        self.rows: dict[tuple, Any] = {}
        self._key_of = key_of
        self.fail_next_record: Exception | None = None
        """Set to make the next `record` raise (a crash after the send, before the outcome is written)."""

    def claim(self, entry):
        existing = self.rows.get(self._key_of(entry))
        if existing is not None:
            return existing
        self.rows[self._key_of(entry)] = entry
        return None

    def record(self, entry) -> None:
        if self.fail_next_record is not None:
            failure, self.fail_next_record = self.fail_next_record, None
            raise failure
        self.rows[self._key_of(entry)] = entry

    def mark_unconfirmed(self, entry, detail: str) -> bool:
        existing = self.rows.get(self._key_of(entry))
        if existing is None or existing.outcome != AttemptOutcome.SENDING:
            return False
        self.rows[self._key_of(entry)] = existing.model_copy(
            update={"outcome": AttemptOutcome.UNCONFIRMED, "detail": detail})
        return True

    def release(self, entry) -> None:
        existing = self.rows.get(self._key_of(entry))
        if existing is None or existing.outcome != AttemptOutcome.SENDING:
            raise Conflict("not a claim in progress")
        del self.rows[self._key_of(entry)]


class FakeAttempts(FakeLedger):
    def __init__(self, patients: FakePatients) -> None:
        super().__init__(lambda a: (a.patient_id, a.cycle_id, a.step, a.channel.value))
        self._patients = patients
        self.fail_next_reply: Exception | None = None

    def log_reply(self, rows: list[CommunicationAttempt], sms_consent: bool | None = None,
                  email_consent: bool | None = None) -> bool:
        if self.fail_next_reply is not None:
            failure, self.fail_next_reply = self.fail_next_reply, None
            raise failure
        if any(self._key_of(row) in self.rows for row in rows):
            return False
        if any(row.patient_id not in self._patients.rows for row in rows):
            raise TransientError("a patient the reply reached no longer exists")
        for row in rows:
            self.rows[self._key_of(row)] = row
        consent = {name: value for name, value in (("sms_consent", sms_consent), ("email_consent", email_consent))
                   if value is not None}
        if consent:
            for patient_id in {row.patient_id for row in rows}:
                self._patients.change_fields(patient_id, **consent)
        return True

    def for_patient(self, patient_id: str) -> list[CommunicationAttempt]:
        return [a for key, a in sorted(self.rows.items()) if key[0] == patient_id]


class FakeTasks:
    def __init__(self) -> None:
        self.rows: dict[str, StaffTask] = {}

    def create(self, task: StaffTask) -> bool:
        if task.task_id in self.rows:
            return False
        self.rows[task.task_id] = task
        return True

    def get(self, task_id: str) -> StaffTask:
        if task_id not in self.rows:
            raise NotFound("task", task_id)
        return self.rows[task_id]

    def close(self, task_id: str, status: TaskStatus, at: datetime, result: str | None = None,
              reason: str | None = None, outcome_after_cancel: bool = False) -> bool:
        task = self.rows.get(task_id)
        reopened = (outcome_after_cancel and task is not None and task.status == TaskStatus.CANCELLED
                    and task.result is None)
        if task is None or (task.status != TaskStatus.OPEN and not reopened):
            return False
        update: dict[str, Any] = {"status": status, "closed_at": at}
        if result:
            update["result"] = result
        if reason:
            update["reason"] = reason
        self.rows[task_id] = StaffTask.model_validate(task.model_dump() | update)
        return True

    def open_queue(self, clinic_id: str, role: str, limit: int = 100) -> list[StaffTask]:
        queue = [t for t in self.rows.values()
                 if t.status == TaskStatus.OPEN and t.clinic_id == clinic_id and t.role.value == role]
        return sorted(queue, key=lambda t: (t.due_at.isoformat(), t.task_id))[:limit]


class FakeAppointments:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Appointment] = {}
        self.locks: dict[tuple[str, datetime], str] = {}
        self.on_schedule: set[tuple[str, str]] = set()
        self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self.payments: dict[tuple[str, str, str], Payment] = {}

    def save(self, appointment: Appointment) -> None:
        self.rows[(appointment.patient_id, appointment.appointment_id)] = appointment

    def for_patient(self, patient_id: str) -> list[Appointment]:
        return [a for (p, _), a in sorted(self.rows.items()) if p == patient_id]

    def get(self, patient_id: str, appointment_id: str) -> Appointment:
        if (patient_id, appointment_id) not in self.rows:
            raise NotFound("appointment", appointment_id)
        return self.rows[(patient_id, appointment_id)]

    @staticmethod
    def _cells(appointment: Appointment) -> set[tuple[str, datetime]]:
        assert appointment.provider_id and appointment.ends_at
        return {(appointment.provider_id, c) for c in grid_cells(appointment.starts_at, appointment.ends_at)}

    def book(self, appointment: Appointment, idempotency: tuple[str, str, str] | None = None) -> None:
        if idempotency and (idempotency[0], idempotency[1]) in self.idempotency:
            raise IdempotencyKeyReused(self.idempotency[(idempotency[0], idempotency[1])])
        cells = self._cells(appointment)
        if any(cell in self.locks for cell in cells) or (appointment.patient_id, appointment.appointment_id) in self.rows:
            raise SlotTaken(f"provider {appointment.provider_id} is not free at {appointment.starts_at}")
        self.save(appointment)
        self.on_schedule.add((appointment.patient_id, appointment.appointment_id))
        self.locks |= dict.fromkeys(cells, appointment.appointment_id)
        if idempotency:
            integrator, key, request_hash = idempotency
            self.idempotency[(integrator, key)] = IdempotencyRecord(
                request_hash=request_hash, patient_id=appointment.patient_id, appointment_id=appointment.appointment_id)

    def idempotency_record(self, integrator_id: str, key: str) -> IdempotencyRecord | None:
        return self.idempotency.get((integrator_id, key))

    def busy(self, provider_ids: list[str], first: datetime, last: datetime) -> tuple[list[Busy], int]:
        """The locked cells, like the booked-cells items (a cell's lock is the same fact)."""
        return [Busy(provider, cell, cell + GRID) for (provider, cell) in self.locks
                if provider in provider_ids and first <= cell < last], len(provider_ids)

    def move(self, appointment: Appointment, moved: Appointment) -> None:
        stored = self.get(appointment.patient_id, appointment.appointment_id)
        if stored.status != AppointmentStatus.BOOKED or stored.starts_at != appointment.starts_at:
            raise Conflict(f"appointment {appointment.appointment_id} changed meanwhile")
        old, new = self._cells(appointment), self._cells(moved)
        if any(cell in self.locks for cell in new - old):
            raise SlotTaken(f"provider {moved.provider_id} is not free at {moved.starts_at}")
        for cell in old - new:
            del self.locks[cell]
        self.locks |= dict.fromkeys(new - old, moved.appointment_id)
        self.save(stored.model_copy(update={"starts_at": moved.starts_at, "ends_at": moved.ends_at,
                                            "provider_id": moved.provider_id, "updated_at": moved.updated_at,
                                            "confirmed_at": None, "confirmation": ConfirmationStatus.UNCONFIRMED,
                                            "confirmation_at": None}))

    def change_status(self, appointment: Appointment, status: AppointmentStatus, at: datetime,
                      reason: str | None = None) -> Appointment:
        stored = self.get(appointment.patient_id, appointment.appointment_id)
        if stored.status != AppointmentStatus.BOOKED:
            raise Conflict(f"appointment {appointment.appointment_id} is {stored.status.value}, not booked")
        update: dict[str, Any] = {"status": status, "updated_at": at}
        if reason:
            update["cancel_reason"] = reason
        self.save(stored.model_copy(update=update))
        if status == AppointmentStatus.CANCELLED:
            self.on_schedule.discard((appointment.patient_id, appointment.appointment_id))
            if appointment.provider_id and appointment.ends_at:
                for cell in self._cells(appointment):
                    self.locks.pop(cell, None)
        return appointment.model_copy(update={"status": status, "updated_at": at, "cancel_reason": reason})

    def set_confirmation(self, appointment: Appointment, status: ConfirmationStatus, at: datetime) -> bool:
        stored = self.get(appointment.patient_id, appointment.appointment_id)
        if (stored.status != AppointmentStatus.BOOKED or stored.starts_at != appointment.starts_at
                or stored.confirmation != appointment.confirmation):
            return False
        update: dict[str, Any] = {"confirmation": status, "confirmation_at": at}
        if status == ConfirmationStatus.CONFIRMED:
            update["confirmed_at"] = at
        self.save(stored.model_copy(update=update))
        return True

    def on_day(self, provider_ids: list[str], first: datetime, last: datetime) -> list[Appointment]:
        return sorted((a for key, a in self.rows.items() if key in self.on_schedule and a.provider_id in provider_ids
                       and first <= a.starts_at < last and a.status == AppointmentStatus.BOOKED),
                      key=lambda a: a.starts_at)

    def payments_for(self, patient_id: str) -> dict[str, list[Payment]]:
        found: dict[str, list[Payment]] = {}
        for (pid, appointment_id, _), payment in sorted(self.payments.items()):
            if pid == patient_id:
                found.setdefault(appointment_id, []).append(payment)
        return found

    def record_payment(self, payment: Payment) -> Payment:
        key = (payment.patient_id, payment.appointment_id, payment.payment_id)
        existing = self.payments.get(key)
        if existing is None:
            self.payments[key] = payment
            return payment
        if existing.model_dump(exclude={"at"}) != payment.model_dump(exclude={"at"}):
            raise Conflict(f"payment {payment.payment_id} was recorded with other details")
        return existing


class FakeNotices(FakeLedger):
    def __init__(self) -> None:
        super().__init__(lambda notice: (notice.kind, notice.key))


class FakeCredentials:
    def __init__(self) -> None:
        self.rows: dict[str, IntegratorCredential] = {}

    def add(self, credential: IntegratorCredential) -> None:
        if credential.key_id in self.rows:
            raise Conflict(f"credential {credential.key_id} exists")
        self.rows[credential.key_id] = credential

    def get(self, key_id: str) -> IntegratorCredential | None:
        return self.rows.get(key_id)

    def revoke(self, key_id: str) -> None:
        if key_id not in self.rows:
            raise NotFound("credential", key_id)
        self.rows[key_id] = self.rows[key_id].model_copy(update={"revoked": True})


class FakeDailyCounts:
    def __init__(self) -> None:
        self.days: dict[tuple[str, date], Counter] = {}

    def add(self, clinic_id: str, day: date, name: str, amount: int = 1) -> None:
        self.days.setdefault((clinic_id, day), Counter())[name] += amount

    def set(self, clinic_id: str, day: date, name: str, value: int) -> None:
        self.days.setdefault((clinic_id, day), Counter())[name] = value

    def day(self, clinic_id: str, day: date) -> Counter:
        return self.period(clinic_id, day, day)

    def week(self, clinic_id: str, last_day: date) -> Counter:
        return self.period(clinic_id, last_day - timedelta(days=6), last_day)

    def period(self, clinic_id: str, first: date, last_day: date) -> Counter:
        totals: Counter = Counter()
        for (clinic, day), counts in self.days.items():
            if clinic == clinic_id and first <= day <= last_day:
                totals.update(counts)
        return totals


class FakeSmsSpend:
    def __init__(self) -> None:
        self.months: dict[str, Decimal] = {}

    def reserve(self, month: str, cost: Decimal, budget: Decimal | None) -> Decimal | None:
        if budget is not None and self.months.get(month, Decimal(0)) + cost > budget:
            return None
        self.months[month] = self.months.get(month, Decimal(0)) + cost
        return self.months[month]

    def release(self, month: str, cost: Decimal) -> None:
        self.months[month] = self.months.get(month, Decimal(0)) - cost

    def spent(self, month: str) -> Decimal:
        return self.months.get(month, Decimal(0))


class FakeLeads:
    def __init__(self) -> None:
        self.leads: dict[str, Lead] = {}
        self.entries: dict[str, list[LeadEntry]] = {}

    def create(self, lead: Lead, entry: LeadEntry) -> bool:
        if lead.lead_id in self.leads:
            return False
        self.leads[lead.lead_id] = lead
        self.entries[lead.lead_id] = [entry]
        return True

    def get(self, lead_id: str) -> Lead:
        if lead_id not in self.leads:
            raise NotFound("lead", lead_id)
        return self.leads[lead_id]

    def timeline(self, lead_id: str) -> tuple[Lead, list[LeadEntry]]:
        return self.get(lead_id), sorted(self.entries[lead_id], key=lambda e: (e.at, e.sequence, not e.applied))

    def for_patient(self, patient_id: str) -> list[Lead]:
        return [lead for lead in self.leads.values() if lead.patient_id == patient_id]

    def change(self, read: Lead, changed: Lead, entry: LeadEntry) -> bool:
        if self.get(read.lead_id).version != read.version:
            return False
        self.leads[read.lead_id] = changed
        self.entries[read.lead_id].append(entry)
        return True

    def record(self, lead: Lead, entry: LeadEntry) -> None:
        self.entries[lead.lead_id].append(entry)

    def open_in_stage(self, clinic_id: str, stage: str, limit: int = 200) -> list[Lead]:
        found = [lead for lead in self.leads.values() if lead.clinic_id == clinic_id and lead.stage == stage]
        return sorted(found, key=lambda lead: (lead.due_date, lead.lead_id))[:limit]

    def ordered_in_month(self, clinic_id: str, month: str) -> list[Lead]:
        return [lead for lead in self.leads.values()
                if lead.clinic_id == clinic_id and lead.ordered_month == month]


class FakeCampaigns:
    def __init__(self) -> None:
        self.campaigns: dict[str, Campaign] = {}
        self.rows: dict[tuple[str, str], CampaignMember] = {}
        self.locks: dict[str, str] = {}

    def create(self, campaign: Campaign) -> bool:
        if campaign.campaign_id in self.campaigns:
            return False
        self.campaigns[campaign.campaign_id] = campaign
        return True

    def save(self, campaign: Campaign) -> None:
        self.campaigns[campaign.campaign_id] = campaign

    def get(self, campaign_id: str) -> Campaign:
        if campaign_id not in self.campaigns:
            raise NotFound("campaign", campaign_id)
        return self.campaigns[campaign_id]

    def all(self) -> list[Campaign]:
        return sorted(self.campaigns.values(), key=lambda c: c.campaign_id)

    def add_member(self, member: CampaignMember) -> bool:
        key = (member.campaign_id, member.patient_id)
        if key in self.rows:
            return False
        self.rows[key] = member
        return True

    def save_member(self, member: CampaignMember) -> CampaignMember:
        stored = self.rows.get((member.campaign_id, member.patient_id))
        if stored is None or stored.version != member.version:
            raise TransientError(f"campaign member {member.patient_id} changed meanwhile")
        saved = member.model_copy(update={"version": member.version + 1})
        self.rows[(member.campaign_id, member.patient_id)] = saved
        return saved

    def member(self, campaign_id: str, patient_id: str) -> CampaignMember:
        if (campaign_id, patient_id) not in self.rows:
            raise NotFound("campaign member", patient_id)
        return self.rows[(campaign_id, patient_id)]

    def members(self, campaign_id: str) -> list[CampaignMember]:
        return [m for (c, _), m in sorted(self.rows.items()) if c == campaign_id]

    def lock(self, patient_id: str, campaign_id: str) -> bool:
        return self.locks.setdefault(patient_id, campaign_id) == campaign_id

    def unlock(self, patient_id: str, campaign_id: str) -> None:
        if self.locks.get(patient_id) == campaign_id:
            del self.locks[patient_id]


class FakeVisits:
    def __init__(self) -> None:
        self.intakes: dict[tuple[str, date, str], IntakeRecord] = {}
        self.visits: dict[tuple[str, str], Visit] = {}
        self.claims: dict[str, Claim] = {}
        self.plans: dict[tuple[str, str], TreatmentPlan] = {}
        self.billed: dict[tuple[str, date, str], BilledVisit] = {}

    def record_billed(self, billed: BilledVisit) -> None:
        self.billed[(billed.clinic_id, billed.day, billed.appointment_id)] = billed

    def billed_on(self, clinic_id: str, day: date) -> list[BilledVisit]:
        return [b for (c, d, _), b in sorted(self.billed.items()) if c == clinic_id and d == day]

    def start_intake(self, record: IntakeRecord) -> bool:
        key = (record.clinic_id, record.day, record.patient_id)
        if key in self.intakes:
            return False
        self.intakes[key] = record
        return True

    def intake(self, clinic_id: str, day: date, patient_id: str) -> IntakeRecord:
        if (clinic_id, day, patient_id) not in self.intakes:
            raise NotFound("intake", patient_id)
        return self.intakes[(clinic_id, day, patient_id)]

    def save_intake(self, record: IntakeRecord) -> None:
        self.intakes[(record.clinic_id, record.day, record.patient_id)] = record

    def intakes_on(self, clinic_id: str, day: date) -> list[IntakeRecord]:
        return sorted((r for (c, d, _), r in self.intakes.items() if c == clinic_id and d == day),
                      key=lambda r: r.patient_id)

    def record_visit(self, visit: Visit) -> Visit | None:
        key = (visit.patient_id, visit.appointment_id)
        if key in self.visits:
            return self.visits[key]
        self.visits[key] = visit
        return None

    def visit(self, patient_id: str, appointment_id: str) -> Visit:
        if (patient_id, appointment_id) not in self.visits:
            raise NotFound("visit", appointment_id)
        return self.visits[(patient_id, appointment_id)]

    def save_visit(self, visit: Visit) -> None:
        self.visits[(visit.patient_id, visit.appointment_id)] = visit

    def visits_for(self, patient_id: str) -> list[Visit]:
        return sorted((v for (p, _), v in self.visits.items() if p == patient_id), key=lambda v: v.appointment_id)

    def create_claim(self, claim: Claim) -> bool:
        if claim.claim_id in self.claims:
            return False
        self.claims[claim.claim_id] = claim
        return True

    def claim(self, claim_id: str) -> Claim:
        if claim_id not in self.claims:
            raise NotFound("claim", claim_id)
        return self.claims[claim_id]

    def change_claim(self, read: Claim, changed: Claim) -> bool:
        if self.claim(read.claim_id).version != read.version:
            return False
        self.claims[read.claim_id] = changed
        return True

    def claims_for(self, patient_id: str) -> list[Claim]:
        return sorted((c for c in self.claims.values() if c.patient_id == patient_id), key=lambda c: c.claim_id)

    def create_plan(self, plan: TreatmentPlan) -> bool:
        if (plan.patient_id, plan.plan_id) in self.plans:
            return False
        self.plans[(plan.patient_id, plan.plan_id)] = plan
        return True

    def plans_for(self, patient_id: str) -> list[TreatmentPlan]:
        return sorted((p for (pid, _), p in self.plans.items() if pid == patient_id), key=lambda p: p.plan_id)


class FakeTables:
    def __init__(self, config: TenantConfig) -> None:
        self.patients = FakePatients(config)
        self.cycles = FakeCycles(self.patients)
        self.attempts = FakeAttempts(self.patients)
        self.tasks = FakeTasks()
        self.appointments = FakeAppointments()
        self.notices = FakeNotices()
        self.credentials = FakeCredentials()
        self.sms_spend = FakeSmsSpend()
        self.daily_counts = FakeDailyCounts()
        self.leads = FakeLeads()
        self.campaigns = FakeCampaigns()
        self.visits = FakeVisits()


@dataclass
class FakeNotifier:
    sms: list[SmsMessage] = field(default_factory=list)
    emails: list[EmailMessage] = field(default_factory=list)
    fail_next: Exception | None = None
    """Set to make the next send raise (TransientError, PermanentSendFailure) instead of sending."""

    def _maybe_fail(self) -> None:
        if self.fail_next is not None:
            failure, self.fail_next = self.fail_next, None
            raise failure

    def send_sms(self, message: SmsMessage) -> str:
        self._maybe_fail()
        self.sms.append(message)
        return f"sms-{len(self.sms)}"

    def send_email(self, message: EmailMessage) -> str:
        self._maybe_fail()
        self.emails.append(message)
        return f"email-{len(self.emails)}"


@dataclass
class FakeReports:
    objects: dict[str, tuple[bytes, str]] = field(default_factory=dict)

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.objects[key] = (body, content_type)

    def keys(self, prefix: str = "reports/", limit: int = 1000) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))[:limit]

    def get(self, key: str) -> tuple[bytes, str] | None:
        return self.objects.get(key)


@dataclass
class FakeMetrics:
    counts: Counter = field(default_factory=Counter)
    gauges: dict[str, float] = field(default_factory=dict)

    def count(self, name: str, value: int = 1) -> None:
        self.counts[name] += value

    def gauge(self, name: str, value: float) -> None:
        self.gauges[name] = value


@dataclass
class FakeWorkflows:
    started: dict[str, tuple[str, dict]] = field(default_factory=dict)
    stopped: list[tuple[str, str, str]] = field(default_factory=list)
    answered: dict[str, dict] = field(default_factory=dict)

    def start(self, machine: str, name: str, payload: dict) -> bool:
        if name in self.started:
            return False
        self.started[name] = (machine, payload)
        return True

    def stop(self, machine: str, name: str, cause: str) -> None:
        self.stopped.append((machine, name, cause))

    def answer(self, token: str, output: dict) -> bool:
        if token in self.answered:
            return False
        self.answered[token] = output
        return True


@dataclass
class FakeEvents:
    published: list[tuple[str, dict]] = field(default_factory=list)

    def publish(self, detail_type: str, detail: dict) -> None:
        self.published.append((detail_type, detail))


def fake_context(config: TenantConfig) -> TenantContext:
    """A tenant's context on fakes only: no moto, no AWS, no network."""
    return TenantContext(config=config, tables=FakeTables(config), notifier=FakeNotifier(),
                         eligibility=StoredCoverageEligibility(), reports=FakeReports(), metrics=FakeMetrics(),
                         workflows=FakeWorkflows(), events=FakeEvents())
