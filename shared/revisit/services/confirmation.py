"""X7: an appointment's confirmation status, changed by the notices (sent, failed), by the patient's reply
and by staff through the API; and the front desk's list of a day's appointments not confirmed yet (A7)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from revisit import clock
from revisit.domain.appointment_notices import confirmation_after
from revisit.domain.send_window import local_instant
from revisit.errors import Conflict, TransientError
from revisit.models.entities import Appointment, AppointmentStatus, ConfirmationStatus
from revisit.services.context import TenantContext

TRIES = 5


def record_confirmation(ctx: TenantContext, appointment: Appointment, *, sent: bool | None = None,
                        answer: ConfirmationStatus | None = None) -> ConfirmationStatus | None:
    """Applies a notice's outcome (`sent`) or an answer to the appointment as it is booked now; None if it is
    no longer booked at that time (moved or cancelled: the change belonged to the old booking)."""
    for _ in range(TRIES):
        stored = ctx.tables.appointments.get(appointment.patient_id, appointment.appointment_id)
        if stored.status != AppointmentStatus.BOOKED or stored.starts_at != appointment.starts_at:
            return None
        status = confirmation_after(stored.confirmation, sent=sent, answer=answer)
        if status == stored.confirmation or ctx.tables.appointments.set_confirmation(stored, status, clock.now()):
            return status
    raise TransientError(f"appointment {appointment.appointment_id} kept changing while its confirmation was recorded")


def set_by_staff(ctx: TenantContext, patient_id: str, appointment_id: str, answer: ConfirmationStatus) -> Appointment:
    appointment = ctx.tables.appointments.get(patient_id, appointment_id)
    if appointment.status != AppointmentStatus.BOOKED:
        raise Conflict(f"appointment {appointment_id} is {appointment.status.value}, not booked")
    if record_confirmation(ctx, appointment, answer=answer) is None:
        raise Conflict(f"appointment {appointment_id} changed meanwhile")
    return ctx.tables.appointments.get(patient_id, appointment_id)


def not_confirmed_on(ctx: TenantContext, clinic_id: str, day: date) -> list[Appointment]:
    """The clinic's booked appointments starting on `day` (its local calendar) not confirmed yet, by time."""
    clinic = ctx.config.clinic(clinic_id)
    zone = ZoneInfo(clinic.time_zone)
    first = local_instant(day, time(0, 0), zone)
    last = local_instant(day + timedelta(days=1), time(0, 0), zone)
    providers = [p.provider_id for p in ctx.config.providers if p.clinic_id == clinic_id]
    return [a for a in ctx.tables.appointments.on_day(providers, first, last)
            if a.clinic_id == clinic_id and a.confirmation != ConfirmationStatus.CONFIRMED]


def tomorrow(ctx: TenantContext, clinic_id: str, now: datetime | None = None) -> date:
    zone = ZoneInfo(ctx.config.clinic(clinic_id).time_zone)
    return (now or clock.now()).astimezone(zone).date() + timedelta(days=1)
