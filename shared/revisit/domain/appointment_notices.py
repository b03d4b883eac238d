"""What an appointment sends, and when (R19 confirmation, R22 reminder, R20 pre-visit instructions).
Pure: no I/O, no clock. Patient messages go out inside the clinic's send window only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from revisit.domain.send_window import next_send_time
from revisit.models.tenant import AppointmentType, Clinic


class Notice(StrEnum):
    CONFIRMATION = "confirmation"  # R19: at once (when the send window opens)
    REMINDER = "reminder"  # R22: X days before
    INSTRUCTIONS = "instructions"  # R20: 24 hours before, if the type has any


@dataclass(frozen=True)
class PlannedNotice:
    notice: Notice
    at: datetime


def notice_plan(*, booked_at: datetime, starts_at: datetime, kind: AppointmentType, clinic: Clinic,
                has_instructions: bool) -> list[PlannedNotice]:
    """The appointment's notices in order. A notice is left out when it could only go out at or after the
    visit, or (the reminder) when the booking came after its moment: the confirmation says it all then."""
    window, zone = clinic.send_window, clinic.time_zone
    plan = [PlannedNotice(Notice.CONFIRMATION, next_send_time(booked_at, window, zone))]
    reminder_due = starts_at - timedelta(days=kind.reminder_days_before)
    if reminder_due > booked_at:
        plan.append(PlannedNotice(Notice.REMINDER, next_send_time(reminder_due, window, zone)))
    if has_instructions:
        plan.append(PlannedNotice(Notice.INSTRUCTIONS,
                                  next_send_time(max(starts_at - timedelta(hours=24), booked_at), window, zone)))
    kept = [p for p in plan if p.at < starts_at]
    # Two notices falling due at one moment still go out in plan order, a moment apart in the workflow.
    return sorted(kept, key=lambda p: p.at)
