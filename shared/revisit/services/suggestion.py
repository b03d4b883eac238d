"""R10: the visit date a recall message suggests: the first day, on or after the due date (and never in
the past), with a free slot of an appointment type that does the recall at the patient's clinic: its
providers' hours, bookings, holidays and closures. Falls back to the clinic's next working day when the
tenant has no such appointment type or nothing is free within SEARCH_DAYS."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from revisit import clock
from revisit.domain.availability import free_slots
from revisit.domain.recall_dates import suggest_visit_date
from revisit.services.context import TenantContext

SEARCH_DAYS = 21
REUSE = timedelta(minutes=10)
"""A night's sweep suggests for many patients of one clinic: one schedule read serves them for a while."""

_found: WeakKeyDictionary[object, dict[tuple[str, str, date], tuple[datetime, date | None]]] = WeakKeyDictionary()
"""Per tenant's tables (one per execution environment on AWS; one per emulated account offline)."""


def suggested_visit_day(ctx: TenantContext, clinic_id: str, recall_types: list[str], due: date) -> date:
    clinic = ctx.config.clinic(clinic_id)
    now = clock.now()
    earliest = suggest_visit_date(due, now.astimezone(ZoneInfo(clinic.time_zone)).date(), clinic, ctx.config.closure_days)
    kind = ctx.config.recall_visit_type(recall_types)
    if kind is None:
        return earliest
    found = _found.setdefault(ctx.tables, {})
    key = (clinic_id, kind.appointment_type, earliest)
    cached = found.get(key)
    if cached is not None and now - cached[0] < REUSE:
        return cached[1] or earliest
    providers = [p for p in ctx.config.providers if p.clinic_id == clinic_id and kind.appointment_type in p.appointment_types]
    zone = ZoneInfo(clinic.time_zone)
    first = datetime.combine(earliest, time(0), tzinfo=zone)
    last = first + timedelta(days=SEARCH_DAYS)
    busy, _ = ctx.tables.appointments.busy([p.provider_id for p in providers], first, last)
    slots = free_slots(clinic=clinic, providers=providers, appointment_type=kind, first_day=earliest,
                       last_day=earliest + timedelta(days=SEARCH_DAYS - 1), busy=busy, not_before=now,
                       closure_days=ctx.config.closure_days)
    day = slots[0].starts_at.astimezone(zone).date() if slots else None
    found[key] = (now, day)
    return day or earliest
