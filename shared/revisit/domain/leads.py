"""Referral leads (F1-F11): the stages a doctor's order goes through, which changes are allowed, and the day
of the call. Pure: no storage, no clock.

A lead is New until the senior registrar assigns a registrar (F4), Assigned while it is being called (F5,
F6), Booked once an appointment for the ordered procedure exists (F7), Success when that visit is paid (F9),
Failed when the patient refuses or is never reached (F11). A cancellation or a no-show sends it back to
Assigned (New if nobody was assigned) with a new call (F10). Success and Failed are final: a late event
changes nothing (it is recorded, not applied).
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum


class LeadStage(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    BOOKED = "booked"
    SUCCESS = "success"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in (LeadStage.SUCCESS, LeadStage.FAILED)


class LeadEvent(StrEnum):
    ORDERED = "ordered"  # F1, F2
    ASSIGNED = "assigned"  # F4 (again: reassigned)
    CALL_BOOKED = "call_booked"  # F6: booked on the call
    CALL_REFUSED = "call_refused"  # F6, F11: not booked, with a reason
    CALL_NO_ANSWER = "call_no_answer"  # F6: tried again, or never reached
    APPOINTMENT_BOOKED = "appointment_booked"  # F7
    APPOINTMENT_PAID = "appointment_paid"  # F9
    APPOINTMENT_CANCELLED = "appointment_cancelled"  # F10
    APPOINTMENT_NO_SHOW = "appointment_no_show"  # F10
    WAITING = "waiting"  # the referral execution waits on the lead (changes no stage)


class CallOutcome(StrEnum):
    BOOKED = "booked"
    REFUSED = "refused"
    NO_ANSWER = "no_answer"


NEVER_REACHED = "never-reached"
"""The reason a lead fails when every call went unanswered."""

_OPEN_FOR_BOOKING = (LeadStage.NEW, LeadStage.ASSIGNED)

ALLOWED: dict[LeadEvent, tuple[LeadStage, ...]] = {
    LeadEvent.ASSIGNED: _OPEN_FOR_BOOKING,
    LeadEvent.CALL_BOOKED: (LeadStage.ASSIGNED,),
    LeadEvent.CALL_REFUSED: (LeadStage.ASSIGNED,),
    LeadEvent.CALL_NO_ANSWER: (LeadStage.ASSIGNED,),
    LeadEvent.APPOINTMENT_BOOKED: _OPEN_FOR_BOOKING,
    # a payment proves a booking: a payment seen before its booking's event still ends the lead
    LeadEvent.APPOINTMENT_PAID: (*_OPEN_FOR_BOOKING, LeadStage.BOOKED),
    LeadEvent.APPOINTMENT_CANCELLED: (LeadStage.BOOKED,),
    LeadEvent.APPOINTMENT_NO_SHOW: (LeadStage.BOOKED,),
}
"""The stages each event may move a lead from; from any other stage it is a no-op (recorded)."""


def next_stage(stage: LeadStage, event: LeadEvent, *, assigned: bool, attempts_after: int = 0,
               max_attempts: int = 1) -> LeadStage | None:
    """The stage `event` moves a lead to, or None if it may not act on a lead in `stage`.
    `attempts_after`: unanswered calls counting this one (CALL_NO_ANSWER)."""
    if stage not in ALLOWED.get(event, ()):
        return None
    if event == LeadEvent.ASSIGNED:
        return LeadStage.ASSIGNED
    if event in (LeadEvent.CALL_BOOKED, LeadEvent.APPOINTMENT_BOOKED):
        return LeadStage.BOOKED
    if event == LeadEvent.CALL_REFUSED:
        return LeadStage.FAILED
    if event == LeadEvent.CALL_NO_ANSWER:
        return LeadStage.FAILED if attempts_after >= max_attempts else LeadStage.ASSIGNED
    if event == LeadEvent.APPOINTMENT_PAID:
        return LeadStage.SUCCESS
    return LeadStage.ASSIGNED if assigned else LeadStage.NEW  # cancelled or no-show: call again


def is_working_day(day: date, working_weekdays: list[int], closures: set[date]) -> bool:
    return day.weekday() in working_weekdays and day not in closures


def call_day(due: date, days_before: int, today: date, working_weekdays: list[int], closures: set[date]) -> date:
    """F3: `days_before` the due date, moved back to the previous working day; never before today (an order
    made late is called at once: today, or the next working day)."""
    day = due - timedelta(days=days_before)
    while not is_working_day(day, working_weekdays, closures) and day > today:
        day -= timedelta(days=1)
    if day <= today:
        return next_working_day(today, working_weekdays, closures, include=True)
    return day


def next_working_day(after: date, working_weekdays: list[int], closures: set[date], *, include: bool = False,
                     skip: int = 1) -> date:
    """The working day `skip` working days after `after` (or `after` itself if `include` and it is one)."""
    if include and is_working_day(after, working_weekdays, closures):
        return after
    day, left = after, skip
    for _ in range(366):
        day += timedelta(days=1)
        if is_working_day(day, working_weekdays, closures):
            left -= 1
            if left == 0:
                return day
    raise ValueError("no working day within a year: check working_weekdays and closure_days")
