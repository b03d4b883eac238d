"""What an appointment sends, and when (R19 confirmation, R22 and X8 reminders, R20 pre-visit instructions,
X8 the missed-appointment message, X9 the cancelled invitation), and its confirmation status (X7).
Pure: no I/O, no clock. Patient messages go out inside the clinic's send window only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from revisit.domain.send_window import last_send_time, next_send_time
from revisit.models.entities import AppointmentStatus, ConfirmationStatus
from revisit.models.tenant import AppointmentType, Clinic

INSTRUCTIONS_BEFORE = timedelta(hours=24)
REMINDER_GAP = timedelta(hours=12)
"""A reminder this close after the message before it says nothing new: it is left out (a booking confirmed
at 14:00 is not reminded at 18:45; a 2-day reminder pushed to Monday morning is not followed by the 2-hour one)."""


class Notice(StrEnum):
    CONFIRMATION = "confirmation"  # R19: at once (when the send window opens), with the calendar invitation
    REMINDER = "reminder"  # R22, X8: each of the type's cadence ('7d', '2d', '2h' before)
    INSTRUCTIONS = "instructions"  # R20: by the 24-hour mark, if the type has any
    MISSED = "missed"  # X8: after a no-show, an invitation to rebook
    CANCELLATION = "cancellation"  # X9: the invitation withdrawn (METHOD:CANCEL), when one was sent


ASKS_TO_CONFIRM = frozenset({Notice.CONFIRMATION, Notice.REMINDER})


@dataclass(frozen=True)
class PlannedNotice:
    notice: Notice
    at: datetime
    label: str = ""
    """Which reminder of the cadence ('2d')."""
    by_staff: bool = False
    """No moment inside the send window is left before the visit: the front desk tells the patient."""

    @property
    def step(self) -> str:
        """The send ledger's step: one per notice (and per reminder of the cadence)."""
        return f"{self.notice.value}-{self.label}" if self.label else self.notice.value


def notice_plan(*, booked_at: datetime, starts_at: datetime, kind: AppointmentType, clinic: Clinic,
                has_instructions: bool) -> list[PlannedNotice]:
    """A booked appointment's notices in order. A reminder goes at its moment, or when the send window next
    opens; it is left out when the booking came after its moment (the confirmation says it all then), when
    the window would make it late by more than half its lead (a 2-hour reminder of a 09:15 visit is not sent
    at 09:00), or when it would follow the message before it within REMINDER_GAP. Instructions
    are never left out: at the last moment inside the window before the 24-hour mark, or as soon as the
    window opens after a late booking, or (no moment left before the visit) by the front desk."""
    window, zone = clinic.send_window, clinic.time_zone
    plan = [PlannedNotice(Notice.CONFIRMATION, next_send_time(booked_at, window, zone))]
    if plan[0].at >= starts_at:
        plan = []
    for label, offset in kind.reminder_offsets:
        due = starts_at - offset
        if due <= booked_at:
            continue
        at = next_send_time(due, window, zone)
        if at > starts_at - offset / 2 or (plan and at < plan[-1].at + REMINDER_GAP):
            continue
        plan.append(PlannedNotice(Notice.REMINDER, at, label))
    if has_instructions:
        at = last_send_time(starts_at - INSTRUCTIONS_BEFORE, window, zone)
        if at < booked_at:
            at = next_send_time(booked_at, window, zone)
        plan.append(PlannedNotice(Notice.INSTRUCTIONS, booked_at, by_staff=True) if at >= starts_at
                    else PlannedNotice(Notice.INSTRUCTIONS, at))
    # Two notices falling due at one moment still go out in plan order, a moment apart in the workflow.
    return sorted(plan, key=lambda p: p.at)


def follow_up_plan(*, status: AppointmentStatus, changed_at: datetime, clinic: Clinic) -> list[PlannedNotice]:
    """What a no-show or a cancellation sends: one message, when the window opens."""
    notice = {AppointmentStatus.NO_SHOW: Notice.MISSED, AppointmentStatus.CANCELLED: Notice.CANCELLATION}.get(status)
    if notice is None:
        return []
    return [PlannedNotice(notice, next_send_time(changed_at, clinic.send_window, clinic.time_zone))]


def confirmation_after(current: ConfirmationStatus, *, sent: bool | None = None,
                       answer: ConfirmationStatus | None = None) -> ConfirmationStatus:
    """X7. The patient's answer (or the staff's record of it) always counts; a message sent moves
    'unconfirmed' or 'failed' to 'sent'; a confirmation request that reached no one is 'failed'."""
    if answer is not None:
        return answer
    if sent and current in (ConfirmationStatus.UNCONFIRMED, ConfirmationStatus.FAILED):
        return ConfirmationStatus.SENT
    if sent is False and current == ConfirmationStatus.UNCONFIRMED:
        return ConfirmationStatus.FAILED
    return current
