"""The lead's stages (F4-F11) and the call day (F3): pure rules."""

from datetime import date

import pytest
from revisit.domain.leads import LeadEvent, LeadStage, call_day, next_stage, next_working_day

WEEKDAYS = [0, 1, 2, 3, 4]


@pytest.mark.parametrize(("stage", "event", "expected"), [
    (LeadStage.NEW, LeadEvent.ASSIGNED, LeadStage.ASSIGNED),
    (LeadStage.ASSIGNED, LeadEvent.ASSIGNED, LeadStage.ASSIGNED),  # reassigned
    (LeadStage.NEW, LeadEvent.APPOINTMENT_BOOKED, LeadStage.BOOKED),  # the patient booked before any call
    (LeadStage.ASSIGNED, LeadEvent.CALL_BOOKED, LeadStage.BOOKED),
    (LeadStage.ASSIGNED, LeadEvent.CALL_REFUSED, LeadStage.FAILED),
    (LeadStage.BOOKED, LeadEvent.APPOINTMENT_PAID, LeadStage.SUCCESS),
    (LeadStage.ASSIGNED, LeadEvent.APPOINTMENT_PAID, LeadStage.SUCCESS),  # the payment's event came first
    (LeadStage.BOOKED, LeadEvent.APPOINTMENT_NO_SHOW, LeadStage.ASSIGNED),
    (LeadStage.BOOKED, LeadEvent.APPOINTMENT_CANCELLED, LeadStage.ASSIGNED),
])
def test_allowed_transitions(stage, event, expected):
    assert next_stage(stage, event, assigned=True) == expected


def test_a_missed_visit_of_a_lead_nobody_was_assigned_goes_back_to_new():
    assert next_stage(LeadStage.BOOKED, LeadEvent.APPOINTMENT_NO_SHOW, assigned=False) == LeadStage.NEW


@pytest.mark.parametrize("event", list(LeadEvent))
@pytest.mark.parametrize("stage", [LeadStage.SUCCESS, LeadStage.FAILED])
def test_a_final_lead_never_moves(stage, event):
    """F11: a Failed lead never becomes Booked by a late event (nor anything else)."""
    assert next_stage(stage, event, assigned=True) is None


@pytest.mark.parametrize(("stage", "event"), [
    (LeadStage.NEW, LeadEvent.CALL_BOOKED), (LeadStage.NEW, LeadEvent.CALL_NO_ANSWER),
    (LeadStage.BOOKED, LeadEvent.APPOINTMENT_BOOKED), (LeadStage.ASSIGNED, LeadEvent.APPOINTMENT_NO_SHOW),
    (LeadStage.BOOKED, LeadEvent.ASSIGNED)])
def test_events_out_of_their_stage_change_nothing(stage, event):
    assert next_stage(stage, event, assigned=True) is None


def test_unanswered_calls_fail_the_lead_at_the_tenants_limit():
    assert next_stage(LeadStage.ASSIGNED, LeadEvent.CALL_NO_ANSWER, assigned=True, attempts_after=2,
                      max_attempts=3) == LeadStage.ASSIGNED
    assert next_stage(LeadStage.ASSIGNED, LeadEvent.CALL_NO_ANSWER, assigned=True, attempts_after=3,
                      max_attempts=3) == LeadStage.FAILED


def test_the_call_day_is_days_before_the_due_date_on_the_previous_working_day():
    today = date(2026, 11, 23)  # a Monday
    assert call_day(date(2026, 12, 4), 2, today, WEEKDAYS, set()) == date(2026, 12, 2)  # Fri -> Wed
    assert call_day(date(2026, 12, 14), 2, today, WEEKDAYS, set()) == date(2026, 12, 11)  # Sat -> Fri
    assert call_day(date(2026, 12, 4), 2, today, WEEKDAYS, {date(2026, 12, 2)}) == date(2026, 12, 1)  # closed


def test_a_late_order_is_called_today_or_the_next_working_day():
    assert call_day(date(2026, 11, 24), 2, date(2026, 11, 23), WEEKDAYS, set()) == date(2026, 11, 23)
    assert call_day(date(2026, 11, 30), 5, date(2026, 11, 28), WEEKDAYS, set()) == date(2026, 11, 30)  # Sat -> Mon


def test_next_working_day_skips_weekends_and_closures():
    assert next_working_day(date(2026, 11, 27), WEEKDAYS, set()) == date(2026, 11, 30)
    assert next_working_day(date(2026, 12, 23), WEEKDAYS, {date(2026, 12, 24)}) == date(2026, 12, 25)
    assert next_working_day(date(2026, 11, 23), WEEKDAYS, set(), include=True) == date(2026, 11, 23)
    assert next_working_day(date(2026, 11, 23), WEEKDAYS, set(), skip=2) == date(2026, 11, 25)
