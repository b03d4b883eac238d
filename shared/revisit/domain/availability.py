"""R18: free slots. Pure: providers' weekly hours, the appointment type's length, what is booked, and the
days the clinic is closed (its country's public holidays and the chain's closures). No I/O, no clock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from revisit.domain.send_window import local_instant
from revisit.models.tenant import SLOT_MINUTES, AppointmentType, Clinic, Provider

GRID = timedelta(minutes=SLOT_MINUTES)
MAX_SEARCH_DAYS = 62


@dataclass(frozen=True)
class Busy:
    provider_id: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Slot:
    provider_id: str
    starts_at: datetime
    ends_at: datetime


@lru_cache(maxsize=64)
def _public_holidays(country: str, year: int) -> frozenset[date]:
    import holidays  # where used: a quarter of a cold start's imports otherwise (issue 14)

    return frozenset(holidays.country_holidays(country, years=year))


def is_closed(day: date, clinic: Clinic, closure_days: Iterable[date] = ()) -> bool:
    return day in _public_holidays(clinic.country, day.year) or day in set(closure_days)


def grid_cells(starts_at: datetime, ends_at: datetime) -> list[datetime]:
    """The 15-minute cells an appointment covers (UTC): what booking locks, so two overlapping bookings
    of one provider can never both succeed, whatever their lengths."""
    cells, cell = [], starts_at.astimezone(ZoneInfo("UTC"))
    while cell < ends_at:
        cells.append(cell)
        cell += GRID
    return cells


def day_cells(cells: Iterable[datetime], zone: ZoneInfo) -> dict[date, set[int]]:
    """Cells grouped by the provider's local day, each as its index from that day's local midnight (elapsed
    time, so a DST day has 92 or 100): the booked-cells item of one provider and day holds these."""
    days: dict[date, set[int]] = {}
    for cell in cells:
        day = cell.astimezone(zone).date()
        days.setdefault(day, set()).add(int((cell - local_midnight(day, zone)) / GRID))
    return days


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(ZoneInfo("UTC"))


def cell_at(day: date, index: int, zone: ZoneInfo) -> datetime:
    return local_midnight(day, zone) + index * GRID


def _floor_to_grid(moment: datetime) -> datetime:
    utc = moment.astimezone(ZoneInfo("UTC"))
    return utc.replace(minute=utc.minute - utc.minute % SLOT_MINUTES, second=0, microsecond=0)


def on_grid(moment: datetime) -> bool:
    return moment.second == 0 and moment.microsecond == 0 and moment.minute % SLOT_MINUTES == 0


def free_slots(
    *,
    clinic: Clinic,
    providers: Iterable[Provider],
    appointment_type: AppointmentType,
    first_day: date,
    last_day: date,
    busy: Iterable[Busy],
    not_before: datetime,
    closure_days: Iterable[date] = (),
) -> list[Slot]:
    """Every start on the grid where one of the providers works the whole appointment, is not booked,
    and the clinic is open; in time order, then by provider. Days are the clinic's local days."""
    if last_day < first_day:
        raise ValueError("last_day is before first_day")
    if (last_day - first_day).days >= MAX_SEARCH_DAYS:
        raise ValueError(f"search at most {MAX_SEARCH_DAYS} days at a time")
    zone = ZoneInfo(clinic.time_zone)
    length = timedelta(minutes=appointment_type.duration_minutes)
    closures = set(closure_days)
    # Booked time as the set of 15-minute cells it touches, per provider: a slot is free when none of its
    # cells is taken (a set lookup per cell, not a comparison with every booked interval).
    taken: dict[str, set[datetime]] = {}
    for interval in busy:
        taken.setdefault(interval.provider_id, set()).update(grid_cells(_floor_to_grid(interval.starts_at), interval.ends_at))
    cells_per_slot = -(-length // GRID)
    able = [p for p in providers if p.clinic_id == clinic.clinic_id
            and appointment_type.appointment_type in p.appointment_types]
    slots: list[Slot] = []
    day = first_day
    while day <= last_day:
        if not is_closed(day, clinic, closures):
            for provider in able:
                for hours in provider.hours:
                    if hours.weekday != day.weekday():
                        continue
                    start = local_instant(day, hours.start, zone)
                    closes = local_instant(day, hours.end, zone)
                    booked = taken.get(provider.provider_id, set())
                    while start + length <= closes:
                        if start >= not_before and not any(start + k * GRID in booked for k in range(cells_per_slot)):
                            slots.append(Slot(provider.provider_id, start, start + length))
                        start += GRID
        day += timedelta(days=1)
    return sorted(slots, key=lambda s: (s.starts_at, s.provider_id))
