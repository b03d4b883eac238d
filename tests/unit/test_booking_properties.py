"""Invariants of availability and notices, for any booked time and any booking moment (Hypothesis)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from revisit.config import load_tenant
from revisit.domain.appointment_notices import Notice, notice_plan
from revisit.domain.availability import Busy, free_slots
from revisit.domain.send_window import is_inside
from revisit.models.tenant import AppointmentType, Provider, WorkingHours

from tests.conftest import DEMO_TENANT

TENANT = load_tenant(DEMO_TENANT)
BOSTON = TENANT.clinic("boston")
ZONE = ZoneInfo(BOSTON.time_zone)
PROVIDER = Provider(provider_id="dds", clinic_id="boston", name="Dr", appointment_types=["recall"],
                    hours=[WorkingHours(weekday=d, start=time(8), end=time(17)) for d in range(5)])
START = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)

busy_intervals = st.lists(st.tuples(st.integers(0, 4 * 24 * 4), st.sampled_from([15, 30, 45, 60, 90])), max_size=12)


@settings(max_examples=60, deadline=None)
@given(busy=busy_intervals, minutes=st.sampled_from([15, 30, 45, 60, 90]))
def test_free_slots_never_overlap_booked_time_and_stay_inside_working_hours(busy, minutes):
    booked = [Busy("dds", START + timedelta(minutes=15 * q), START + timedelta(minutes=15 * q + length))
              for q, length in busy]
    kind = AppointmentType(appointment_type="recall", duration_minutes=minutes, labels={"en": "x"})
    slots = free_slots(clinic=BOSTON, providers=[PROVIDER], appointment_type=kind, first_day=date(2026, 11, 30),
                       last_day=date(2026, 12, 4), busy=booked, not_before=START)
    for slot in slots:
        assert slot.ends_at - slot.starts_at == timedelta(minutes=minutes)
        assert not any(b.starts_at < slot.ends_at and slot.starts_at < b.ends_at for b in booked)
        local_start, local_end = slot.starts_at.astimezone(ZONE), slot.ends_at.astimezone(ZONE)
        assert local_start.date() == local_end.date() and time(8) <= local_start.time() and local_end.time() <= time(17)
    assert len({(s.provider_id, s.starts_at) for s in slots}) == len(slots)


@settings(max_examples=80, deadline=None)
@given(booked_hours=st.integers(0, 24 * 30), lead_hours=st.integers(1, 24 * 20), kind=st.sampled_from(
    ["recall", "new-patient", "sedation"]))
def test_notices_go_out_in_the_send_window_before_the_visit_in_order(booked_hours, lead_hours, kind):
    booked_at = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=booked_hours)
    starts_at = booked_at + timedelta(hours=lead_hours)
    appointment_type = TENANT.appointment_type(kind)
    plan = notice_plan(booked_at=booked_at, starts_at=starts_at, kind=appointment_type, clinic=BOSTON,
                       has_instructions=bool(appointment_type.instructions))
    moments = [p.at for p in plan]
    assert moments == sorted(moments) and len({p.step for p in plan}) == len(plan)
    for planned in plan:
        assert booked_at <= planned.at < starts_at
        # X8: a message goes inside the window; only instructions no window moment can carry go to the front desk
        assert planned.by_staff or is_inside(planned.at, BOSTON.send_window, BOSTON.time_zone)
        assert not planned.by_staff or planned.notice == Notice.INSTRUCTIONS
    if appointment_type.instructions:  # never dropped: by a message before the 24-hour mark when there is time
        [instructions] = [p for p in plan if p.notice == Notice.INSTRUCTIONS]
        if not instructions.by_staff and booked_at <= starts_at - timedelta(hours=24) - timedelta(days=3):
            assert instructions.at <= starts_at - timedelta(hours=24)
