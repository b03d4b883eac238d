from datetime import UTC, date, datetime, time, timedelta

import pytest
from revisit.domain.availability import Busy, free_slots, grid_cells
from revisit.models.tenant import AppointmentType, Provider, WorkingHours

NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


@pytest.fixture
def boston(tenant):
    return tenant.clinic("boston")


def provider(pid="dds", hours=((0, "09:00", "11:00"),), types=("recall",)):
    return Provider(provider_id=pid, clinic_id="boston", name="Dr", appointment_types=list(types),
                    hours=[WorkingHours(weekday=w, start=time.fromisoformat(a), end=time.fromisoformat(b))
                           for w, a, b in hours])


def kind(minutes=45):
    return AppointmentType(appointment_type="recall", duration_minutes=minutes, labels={"en": "x"})


def test_slots_fill_the_working_hours_on_the_grid_in_local_time(boston):
    slots = free_slots(clinic=boston, providers=[provider()], appointment_type=kind(), first_day=date(2026, 11, 30),
                       last_day=date(2026, 11, 30), busy=[], not_before=NOW)
    # Monday 09:00-11:00 New York: 45-minute visits start 09:00 ... 10:15
    assert [s.starts_at.astimezone(UTC).strftime("%H:%M") for s in slots] == ["14:00", "14:15", "14:30", "14:45",
                                                                               "15:00", "15:15"]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=45) for s in slots)


def test_booked_time_public_holidays_closures_and_the_past_are_not_offered(boston):
    busy = [Busy("dds", datetime(2026, 11, 30, 14, 30, tzinfo=UTC), datetime(2026, 11, 30, 15, 15, tzinfo=UTC))]
    slots = free_slots(clinic=boston, providers=[provider()], appointment_type=kind(), first_day=date(2026, 11, 30),
                       last_day=date(2026, 11, 30), busy=busy, not_before=NOW)
    # 09:30-10:15 booked: of 09:00..10:15 only 10:15 does not overlap it (09:00 would end at 09:45)
    assert [s.starts_at.astimezone(UTC).strftime("%H:%M") for s in slots] == ["15:15"]
    # 2027-01-18 is Martin Luther King Jr. Day (a US public holiday); 2027-01-25 a chain closure
    mondays = dict(first_day=date(2027, 1, 18), last_day=date(2027, 1, 25))
    assert free_slots(clinic=boston, providers=[provider()], appointment_type=kind(), busy=[], not_before=NOW,
                      closure_days=[date(2027, 1, 25)], **mondays) == []
    later = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    slots = free_slots(clinic=boston, providers=[provider()], appointment_type=kind(), first_day=date(2026, 11, 30),
                       last_day=date(2026, 11, 30), busy=[], not_before=later)
    assert slots[0].starts_at == later


def test_only_providers_who_do_the_type_and_searches_are_bounded(boston):
    other = provider("hyg", types=("perio",))
    assert free_slots(clinic=boston, providers=[other], appointment_type=kind(), first_day=date(2026, 11, 30),
                      last_day=date(2026, 11, 30), busy=[], not_before=NOW) == []
    with pytest.raises(ValueError):
        free_slots(clinic=boston, providers=[provider()], appointment_type=kind(), first_day=date(2026, 12, 2),
                   last_day=date(2026, 12, 1), busy=[], not_before=NOW)
    with pytest.raises(ValueError):
        free_slots(clinic=boston, providers=[provider()], appointment_type=kind(), first_day=date(2026, 12, 1),
                   last_day=date(2027, 3, 1), busy=[], not_before=NOW)


def test_grid_cells_cover_the_appointment():
    start = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
    assert grid_cells(start, start + timedelta(minutes=45)) == [start + timedelta(minutes=m) for m in (0, 15, 30)]


def test_an_appointment_type_must_sit_on_the_grid():
    with pytest.raises(ValueError, match="multiple of 15"):
        kind(50)
