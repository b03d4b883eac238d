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
    [instructions] = plan(tenant, booked, starts_at=early_visit)  # no message can go: the front desk phones
    assert instructions.notice == Notice.INSTRUCTIONS and instructions.by_staff and instructions.at == booked
    assert plan(tenant, booked, kind="recall", starts_at=early_visit) == []


MONDAY_0900_BOSTON = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
SATURDAY_1945_BOSTON = datetime(2026, 12, 6, 0, 45, tzinfo=UTC)


def test_monday_morning_sedation_instructions_go_on_saturday_evening_not_never(tenant):
    """X8: the 24-hour mark is Sunday 09:00, when Boston sends nothing: the last moment before it is Saturday's
    window end (less LAST_CALL), never Monday morning (after the visit's start, or too late to fast)."""
    booked = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    notices = {n.step: n for n in plan(tenant, booked, kind="sedation", starts_at=MONDAY_0900_BOSTON)}
    assert notices["instructions"].at == SATURDAY_1945_BOSTON and not notices["instructions"].by_staff


def test_a_cadence_of_reminders_each_at_its_moment_or_when_the_window_opens_never_late_or_crowded(tenant):
    kind = tenant.appointment_type("sedation").model_copy(update={"reminders": ["7d", "2d", "2h"]})
    booked, boston = datetime(2026, 11, 30, 16, 0, tzinfo=UTC), tenant.clinic("boston")
    afternoon = datetime(2026, 12, 10, 19, 0, tzinfo=UTC)  # Thursday 14:00 Boston
    notices = notice_plan(booked_at=booked, starts_at=afternoon, kind=kind, clinic=boston, has_instructions=True)
    assert [(n.step, n.at) for n in notices if n.notice == Notice.REMINDER] == [
        ("reminder-7d", afternoon - timedelta(days=7)), ("reminder-2d", afternoon - timedelta(days=2)),
        ("reminder-2h", afternoon - timedelta(hours=2))]
    morning = datetime(2026, 12, 10, 14, 15, tzinfo=UTC)  # Thursday 09:15: the window opens at 09:00
    notices = notice_plan(booked_at=booked, starts_at=morning, kind=kind, clinic=boston, has_instructions=True)
    assert [n.step for n in notices if n.notice == Notice.REMINDER] == ["reminder-7d", "reminder-2d"]
    sunday = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)  # Tuesday 10:00: its 2-day moment is Sunday, closed
    [two_days] = [n for n in notice_plan(booked_at=booked, starts_at=sunday, kind=tenant.appointment_type("recall"),
                                         clinic=boston, has_instructions=False) if n.notice == Notice.REMINDER]
    assert two_days.at == datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # Monday 09:00, a day ahead
    crowded = notice_plan(booked_at=datetime(2026, 12, 7, 19, 0, tzinfo=UTC),  # Monday 14:00 for Wednesday 16:00
                          starts_at=datetime(2026, 12, 9, 21, 0, tzinfo=UTC), kind=tenant.appointment_type("recall"),
                          clinic=boston, has_instructions=False)
    assert [n.notice for n in crowded] == [Notice.CONFIRMATION]  # its reminder would come 2 hours after it


def test_after_a_holiday_weekend_and_at_the_window_edges(tenant):
    """Booked Saturday 19:50 (the window's last quarter hour) for Monday 09:00: the last moment before the
    24-hour mark came before the booking, so the instructions go at once with the confirmation; booked at
    20:10, after the window closed, nothing can reach the patient before Monday 09:00: the front desk phones."""
    booked = datetime(2026, 12, 6, 0, 50, tzinfo=UTC)
    notices = plan(tenant, booked, kind="sedation", starts_at=MONDAY_0900_BOSTON)
    assert [(n.notice, n.at, n.by_staff) for n in notices] == [
        (Notice.CONFIRMATION, booked, False), (Notice.INSTRUCTIONS, booked, False)]
    late = datetime(2026, 12, 6, 1, 10, tzinfo=UTC)
    assert [(n.notice, n.at, n.by_staff) for n in plan(tenant, late, kind="sedation", starts_at=MONDAY_0900_BOSTON)] == [
        (Notice.INSTRUCTIONS, late, True)]


def test_a_no_show_and_a_cancellation_each_send_one_message_when_the_window_opens(tenant):
    from revisit.domain.appointment_notices import follow_up_plan
    from revisit.models.entities import AppointmentStatus
    night = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)  # Monday 21:00 Boston
    for status, notice in ((AppointmentStatus.NO_SHOW, Notice.MISSED), (AppointmentStatus.CANCELLED, Notice.CANCELLATION)):
        [planned] = follow_up_plan(status=status, changed_at=night, clinic=tenant.clinic("boston"))
        assert planned.notice == notice and planned.at == datetime(2026, 12, 8, 14, 0, tzinfo=UTC)
    assert follow_up_plan(status=AppointmentStatus.COMPLETED, changed_at=night, clinic=tenant.clinic("boston")) == []


def test_confirmation_status_moves_only_forward_except_for_the_patients_answer():
    from revisit.domain.appointment_notices import confirmation_after
    from revisit.models.entities import ConfirmationStatus as C
    assert confirmation_after(C.UNCONFIRMED, sent=True) == C.SENT
    assert confirmation_after(C.UNCONFIRMED, sent=False) == C.FAILED
    assert confirmation_after(C.FAILED, sent=True) == C.SENT
    assert confirmation_after(C.CONFIRMED, sent=True) == C.CONFIRMED  # a reminder never undoes an answer
    assert confirmation_after(C.SENT, sent=False) == C.SENT
    assert confirmation_after(C.CONFIRMED, answer=C.DECLINED) == C.DECLINED
