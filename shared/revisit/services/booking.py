"""R18 availability and R21 booking: what the booking API does, over the repositories.

A booking is race-safe (slot locks in one transaction), idempotent per integrator and Idempotency-Key, and
ends the patient's open recall cycle as Booked so its execution sends nothing more (R23: its tasks close)."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from revisit import clock
from revisit.domain.availability import Slot, free_slots, is_closed, on_grid
from revisit.domain.insurance import most_recent_policy
from revisit.domain.naming import pre_visit_task_id, recall_task_id
from revisit.domain.recall_dates import visit_done
from revisit.errors import Conflict, IdempotencyKeyReused, InvalidRequest, NotFound
from revisit.models.entities import (
    Appointment,
    AppointmentStatus,
    ConfirmationStatus,
    CycleStatus,
    Patient,
    PatientStatus,
    Payment,
    RecallStatus,
    TaskKind,
    TaskStatus,
)
from revisit.models.tenant import AppointmentType, Clinic, Provider
from revisit.services.appointment_notices import execution_name
from revisit.services.context import TenantContext
from revisit.services.patient_actions import open_cycle
from revisit.services.patients import change_patient
from revisit.services.recall import end_cycle
from revisit.services.retention import with_score
from revisit.topology import APPOINTMENT

BOOKING_HORIZON = timedelta(days=732)
"""How far ahead anything is booked or searched (two years)."""


@dataclass(frozen=True)
class Availability:
    slots: list[Slot]
    items_read: int


def availability(ctx: TenantContext, clinic_id: str, appointment_type: str, first_day: date, last_day: date,
                 provider_id: str | None = None) -> Availability:
    clinic = _clinic(ctx, clinic_id)
    kind = _appointment_type(ctx, appointment_type)
    for field, day in (("from", first_day), ("to", last_day)):
        if day > clock.now().date() + BOOKING_HORIZON:
            raise InvalidRequest(field, f"at most {BOOKING_HORIZON.days} days ahead")
    providers = [_provider(ctx, provider_id, clinic)] if provider_id else [
        p for p in ctx.config.providers if p.clinic_id == clinic.clinic_id]
    zone = ZoneInfo(clinic.time_zone)
    first = datetime.combine(first_day, datetime.min.time(), tzinfo=zone)
    last = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    busy, read = ctx.tables.appointments.busy(
        [p.provider_id for p in providers if kind.appointment_type in p.appointment_types], first, last)
    try:
        slots = free_slots(clinic=clinic, providers=providers, appointment_type=kind, first_day=first_day,
                           last_day=last_day, busy=busy, not_before=clock.now(), closure_days=ctx.config.closure_days)
    except ValueError as exc:
        raise InvalidRequest("to", str(exc)) from None
    return Availability(slots, read)


@dataclass(frozen=True)
class BookingRequest:
    patient_id: str
    clinic_id: str
    appointment_type: str
    provider_id: str
    starts_at: datetime

    def fingerprint(self) -> str:
        body = {"patient_id": self.patient_id, "clinic_id": self.clinic_id, "appointment_type": self.appointment_type,
                "provider_id": self.provider_id, "starts_at": self.starts_at.isoformat()}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Booked:
    appointment: Appointment
    replayed: bool


def book(ctx: TenantContext, request: BookingRequest, booked_by: str, idempotency_key: str | None = None) -> Booked:
    """Raises InvalidRequest (the field), NotFound (patient), SlotTaken (409)."""
    if idempotency_key:
        earlier = ctx.tables.appointments.idempotency_record(booked_by, idempotency_key)
        if earlier is not None:
            return _replay(ctx, earlier, request)
    patient = ctx.tables.patients.get(request.patient_id)
    clinic = _clinic(ctx, request.clinic_id)
    if patient.clinic_id != clinic.clinic_id:
        raise InvalidRequest("clinic_id", f"patient {patient.patient_id} is registered at {patient.clinic_id}")
    kind = _appointment_type(ctx, request.appointment_type)
    provider = _provider(ctx, request.provider_id, clinic)
    starts_at = request.starts_at
    _check_start(starts_at)
    ends_at = starts_at + timedelta(minutes=kind.duration_minutes)
    _check_bookable(ctx, clinic, provider, kind, starts_at, ends_at)
    now = clock.now()
    appointment = Appointment(
        appointment_id=f"a-{uuid.uuid4().hex[:16]}", patient_id=patient.patient_id, clinic_id=clinic.clinic_id,
        appointment_type=kind.appointment_type, provider_id=provider.provider_id, starts_at=starts_at,
        ends_at=ends_at, created_at=now, booked_by=booked_by,
    )
    fingerprint = (booked_by, idempotency_key, request.fingerprint()) if idempotency_key else None
    try:
        ctx.tables.appointments.book(appointment, fingerprint)
    except IdempotencyKeyReused as reused:  # a concurrent retry with the same key committed first
        return _replay(ctx, reused.record, request)
    _after_booking(ctx, appointment)
    return Booked(appointment, replayed=False)


def _replay(ctx: TenantContext, record, request: BookingRequest) -> Booked:
    if record.request_hash != request.fingerprint():
        raise InvalidRequest("Idempotency-Key", "was already used for a different booking request")
    return Booked(ctx.tables.appointments.get(record.patient_id, record.appointment_id), replayed=True)


def _after_booking(ctx: TenantContext, appointment: Appointment) -> None:
    """The notices start (R19, R20, R22); the patient's next appointment stops the recall ladder; the open
    cycle ends Booked (R23)."""
    start_notices(ctx, appointment)
    publish(ctx, "AppointmentBooked", appointment)
    change_patient(ctx, appointment.patient_id, lambda patient: patient.model_copy(update={
        "next_appointment_at": min(filter(None, (patient.next_appointment_at, appointment.starts_at)))}))
    cycle = open_cycle(ctx, appointment.patient_id)
    if cycle is not None:
        end_cycle(ctx, cycle, CycleStatus.BOOKED, "appointment booked")


EVENT_FOR_STATUS = {AppointmentStatus.CANCELLED: "AppointmentCancelled", AppointmentStatus.NO_SHOW: "AppointmentNoShow",
                    AppointmentStatus.COMPLETED: "AppointmentCompleted"}


def publish(ctx: TenantContext, detail_type: str, appointment: Appointment, **extra: object) -> None:
    """Ids, times and status only: an event is read by integrations and other workflows, not by people."""
    if ctx.events is None:
        return
    detail = {"tenant_id": ctx.config.tenant_id, **appointment.model_dump(
        mode="json", include={"appointment_id", "patient_id", "clinic_id", "provider_id", "appointment_type",
                              "starts_at", "ends_at", "status", "booked_by", "cancel_reason"}), **extra}
    ctx.events.publish(detail_type, detail)


def reschedule(ctx: TenantContext, patient_id: str, appointment_id: str, starts_at: datetime,
               provider_id: str | None = None) -> Appointment:
    """Moves a booked appointment; its notices follow (the old execution stops, sends nothing more; a new
    one confirms the new time and reminds before it)."""
    appointment = ctx.tables.appointments.get(patient_id, appointment_id)
    if appointment.status != AppointmentStatus.BOOKED:
        raise Conflict(f"appointment {appointment_id} is {appointment.status.value}, not booked")
    clinic = _clinic(ctx, appointment.clinic_id)
    kind = _appointment_type(ctx, appointment.appointment_type)
    provider = _provider(ctx, provider_id or appointment.provider_id or "", clinic)
    _check_start(starts_at)
    ends_at = starts_at + timedelta(minutes=kind.duration_minutes)
    _check_bookable(ctx, clinic, provider, kind, starts_at, ends_at)
    moved = appointment.model_copy(update={"starts_at": starts_at, "ends_at": ends_at, "provider_id": provider.provider_id,
                                           "updated_at": clock.now(), "confirmed_at": None,
                                           "confirmation": ConfirmationStatus.UNCONFIRMED, "confirmation_at": None})
    ctx.tables.appointments.move(appointment, moved)
    if ctx.workflows is not None:
        ctx.workflows.stop(APPOINTMENT.name, execution_name(appointment), "appointment rescheduled")
    start_notices(ctx, moved)
    def follow(patient: Patient) -> Patient:
        if patient.next_appointment_at in (None, appointment.starts_at) or starts_at < patient.next_appointment_at:
            return patient.model_copy(update={"next_appointment_at": starts_at})
        return patient

    change_patient(ctx, patient_id, follow)
    publish(ctx, "AppointmentRescheduled", moved, previous_starts_at=appointment.starts_at.isoformat())
    return moved


FOLLOW_UP = {AppointmentStatus.NO_SHOW: "missed", AppointmentStatus.CANCELLED: "cancelled"}
"""What a status change sends (the missed-appointment message, the withdrawn invitation): its own execution."""


def start_notices(ctx: TenantContext, appointment: Appointment, purpose: str = "") -> None:
    if ctx.workflows is not None:
        ctx.workflows.start(APPOINTMENT.name, execution_name(appointment, purpose), {
            "patient_id": appointment.patient_id, "appointment_id": appointment.appointment_id,
            "version": appointment.starts_at.isoformat(), "progress": {"notice_index": 0}})


def change_status(ctx: TenantContext, patient_id: str, appointment_id: str, status: AppointmentStatus,
                  reason: str | None = None) -> Appointment:
    appointment = ctx.tables.appointments.get(patient_id, appointment_id)
    if status in (AppointmentStatus.NO_SHOW, AppointmentStatus.COMPLETED) and clock.now() < appointment.starts_at:
        raise Conflict(f"appointment {appointment_id} starts at {appointment.starts_at.isoformat()}: "
                       f"it cannot be {status.value.replace('_', '-')} before then")
    changed = ctx.tables.appointments.change_status(appointment, status, clock.now(), reason)
    if ctx.workflows is not None:  # its notices would send nothing more anyway; this ends the execution now
        ctx.workflows.stop(APPOINTMENT.name, execution_name(appointment), f"appointment {status.value}")
    if status in FOLLOW_UP:
        start_notices(ctx, changed, FOLLOW_UP[status])
    publish(ctx, EVENT_FOR_STATUS[status], changed)
    _close_the_loop(ctx, changed)
    return changed


def _close_the_loop(ctx: TenantContext, appointment: Appointment) -> None:
    """X1. A completed visit is the patient's last visit and the last time of each recall type its type
    satisfies (the next due date follows); a cancelled or missed recall visit sends the patient back to
    recall `recall.rebook_after_days` later. The next appointment is whatever is still booked."""
    zone = ZoneInfo(ctx.config.clinic(appointment.clinic_id).time_zone)
    satisfied = _appointment_type(ctx, appointment.appointment_type).satisfies
    following = min((a.starts_at for a in ctx.tables.appointments.for_patient(appointment.patient_id)
                     if a.status == AppointmentStatus.BOOKED and a.starts_at > clock.now()
                     and a.appointment_id != appointment.appointment_id), default=None)
    today = clock.now().astimezone(zone).date()

    def change(patient: Patient) -> Patient:
        patient = with_score(ctx, patient.model_copy(update={"next_appointment_at": following}))  # R25
        if appointment.status == AppointmentStatus.COMPLETED:
            # A patient handed to reactivation who came back is in the loop again.
            patient = patient.model_copy(update={"status": PatientStatus.ACTIVE, "recall_status": None}
                                         if patient.status == PatientStatus.INACTIVE else {"recall_status": None})
            return visit_done(patient, appointment.starts_at.astimezone(zone).date(), satisfied,
                              {rt.recall_type: rt for rt in ctx.config.recall_types}, ctx.config.sweep.lead_days)
        if satisfied and following is None:  # a recall visit that did not happen: back in recall
            return patient.model_copy(update={"recall_status": RecallStatus.PENDING,
                                              "recall_from": today + timedelta(days=ctx.config.recall.rebook_after_days)})
        return patient

    changed = change_patient(ctx, appointment.patient_id, change)
    ctx.tables.tasks.close(pre_visit_task_id(appointment.appointment_id),  # I6: prepared for, or moot now
                           TaskStatus.DONE if appointment.status == AppointmentStatus.COMPLETED else TaskStatus.CANCELLED,
                           clock.now(), reason=f"appointment {appointment.status.value}")
    if changed.recall_cycle_id:  # the hygienist's chart review was for this visit: done or moot now
        ctx.tables.tasks.close(recall_task_id(TaskKind.CHART_REVIEW.value, changed.patient_id, changed.recall_cycle_id),
                               TaskStatus.DONE if appointment.status == AppointmentStatus.COMPLETED else TaskStatus.CANCELLED,
                               clock.now(), reason=f"appointment {appointment.status.value}")


def _check_start(starts_at: datetime) -> None:
    if not on_grid(starts_at):
        raise InvalidRequest("starts_at", "appointments start on the quarter hour")
    if starts_at > clock.now() + BOOKING_HORIZON:
        raise InvalidRequest("starts_at", f"at most {BOOKING_HORIZON.days} days ahead")


def _check_bookable(ctx: TenantContext, clinic: Clinic, provider: Provider, kind: AppointmentType,
                    starts_at: datetime, ends_at: datetime) -> None:
    if kind.appointment_type not in provider.appointment_types:
        raise InvalidRequest("provider_id", f"{provider.provider_id} does not do {kind.appointment_type}")
    if starts_at <= clock.now():
        raise InvalidRequest("starts_at", "is in the past")
    local_day = starts_at.astimezone(ZoneInfo(clinic.time_zone)).date()
    if is_closed(local_day, clinic, ctx.config.closure_days):
        raise InvalidRequest("starts_at", f"the clinic is closed on {local_day}")
    offered = free_slots(clinic=clinic, providers=[provider], appointment_type=kind, first_day=local_day,
                         last_day=local_day, busy=[], not_before=starts_at)
    if not any(slot.starts_at == starts_at for slot in offered):
        raise InvalidRequest("starts_at", f"outside {provider.provider_id}'s working hours")


def _clinic(ctx: TenantContext, clinic_id: str) -> Clinic:
    try:
        return ctx.config.clinic(clinic_id)
    except KeyError:
        raise NotFound("clinic", clinic_id) from None


def _appointment_type(ctx: TenantContext, appointment_type: str) -> AppointmentType:
    try:
        return ctx.config.appointment_type(appointment_type)
    except KeyError:
        raise InvalidRequest("appointment_type", f"unknown: {appointment_type!r}") from None


def _provider(ctx: TenantContext, provider_id: str, clinic: Clinic) -> Provider:
    try:
        provider = ctx.config.provider(provider_id)
    except KeyError:
        raise InvalidRequest("provider_id", f"unknown: {provider_id!r}") from None
    if provider.clinic_id != clinic.clinic_id:
        raise InvalidRequest("provider_id", f"{provider_id} does not work at {clinic.clinic_id}")
    return provider


def record_payment(ctx: TenantContext, patient_id: str, appointment_id: str, payment_id: str, amount, currency: str,
                   method: str) -> Payment:
    appointment = ctx.tables.appointments.get(patient_id, appointment_id)
    if appointment.status == AppointmentStatus.CANCELLED:
        raise Conflict(f"appointment {appointment_id} is cancelled")
    payment = Payment(payment_id=payment_id, appointment_id=appointment_id, patient_id=patient_id, amount=amount,
                      currency=currency, method=method, at=clock.now())
    stored = ctx.tables.appointments.record_payment(payment)
    if stored is payment:
        publish(ctx, "AppointmentPaid", appointment, payment_id=payment_id, amount=str(payment.amount),
                currency=payment.currency, method=payment.method.value)
    return stored


def verify_primary_insurance(ctx: TenantContext, patient_id: str):
    """R17: the most recent policy, checked now with the tenant's eligibility provider; kept on the file."""
    patient = ctx.tables.patients.get(patient_id)
    zone = ZoneInfo(ctx.config.clinic(patient.clinic_id).time_zone)
    result = ctx.eligibility.verify(patient, most_recent_policy(patient.insurance), clock.now().astimezone(zone).date())
    change_patient(ctx, patient_id, lambda stored: stored.model_copy(update={"latest_eligibility": result}))
    return result
