from datetime import UTC, datetime, timedelta

from revisit.domain.appointment_notices import Notice, notice_plan

VISIT = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)  # Thursday 10:00 in Boston


def plan(tenant, booked_at, kind="new-patient", starts_at=VISIT):
    return notice_plan(booked_at=booked_at, starts_at=starts_at, kind=tenant.appointment_type(kind),
                       clinic=tenant.clinic("boston"), has_instructions=bool(tenant.appointment_type(kind).instructions))


def test_confirmation_at_once_inside_the_window_then_reminder_and_instructions(tenant):
    booked = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # Monday 11:00 in Boston, inside the window
    notices = plan(tenant, booked)
    assert [(n.notice, n.at) for n in notices] == [
        (Notice.CONFIRMATION, booked),
        (Notice.REMINDER, VISIT - timedelta(days=3)),
        (Notice.INSTRUCTIONS, VISIT - timedelta(hours=24)),
    ]


def test_a_booking_at_night_is_confirmed_when_the_window_opens(tenant):
    booked = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 22:00 in Boston
    assert plan(tenant, booked)[0].at == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # 09:00 EST


def test_a_late_booking_skips_the_reminder_and_a_type_without_instructions_sends_none(tenant):
    booked = VISIT - timedelta(days=1, hours=2)
    assert [n.notice for n in plan(tenant, booked)] == [Notice.CONFIRMATION, Notice.INSTRUCTIONS]
    assert [n.notice for n in plan(tenant, booked, kind="recall")] == [Notice.CONFIRMATION]


def test_nothing_is_planned_at_or_after_the_visit(tenant):
    early_visit = datetime(2026, 12, 10, 13, 15, tzinfo=UTC)  # 08:15 Boston, before the window opens
    booked = datetime(2026, 12, 10, 3, 0, tzinfo=UTC)
    assert plan(tenant, booked, starts_at=early_visit) == []
