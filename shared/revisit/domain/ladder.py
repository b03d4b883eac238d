"""The contact ladder: what happens next for one patient's recall cycle. Pure: no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from revisit.domain.consent import refusal, refuses_all
from revisit.domain.send_window import next_send_time
from revisit.models.common import Channel, MessageKind
from revisit.models.entities import AttemptOutcome, CycleStatus, Patient, RecallCycle
from revisit.models.tenant import Clinic, LadderStep


@dataclass(frozen=True)
class StopCycle:
    """The patient booked, declined or opted out: nothing more is sent."""

    status: CycleStatus
    reason: str


@dataclass(frozen=True)
class WaitUntil:
    at: datetime
    why: str  # "ladder" (the step is not due yet) or "send_window"


@dataclass(frozen=True)
class SkipStep:
    step: LadderStep
    outcome: AttemptOutcome


@dataclass(frozen=True)
class ContactNow:
    step: LadderStep


@dataclass(frozen=True)
class LadderFinished:
    pass


LadderAction = StopCycle | WaitUntil | SkipStep | ContactNow | LadderFinished


def next_ladder_action(
    *,
    cycle: RecallCycle,
    patient: Patient,
    ladder: list[LadderStep],
    clinic: Clinic,
    now: datetime,
    has_upcoming_appointment: bool,
) -> LadderAction:
    """Checked before every contact, in this order: stop, timing, channel, send window."""
    if not cycle.status.is_open:
        return StopCycle(cycle.status, "cycle already closed")
    if has_upcoming_appointment:
        return StopCycle(CycleStatus.BOOKED, "patient has an upcoming appointment")
    if refuses_all(patient, MessageKind.RECALL):
        return StopCycle(CycleStatus.OPTED_OUT, "patient opted out of recall")
    if cycle.step_index >= len(ladder):
        return LadderFinished()
    if now < cycle.next_contact_at:
        return WaitUntil(cycle.next_contact_at, "ladder")
    step = ladder[cycle.step_index]
    skip = refusal(patient, step.channel, MessageKind.RECALL)
    if skip is not None:
        return SkipStep(step, skip)
    if step.channel.reaches_patient:
        opens = next_send_time(now, clinic.send_window, clinic.time_zone)
        if opens > now:
            return WaitUntil(opens, "send_window")
    return ContactNow(step)


def next_contact_after(
    ladder: list[LadderStep], next_index: int, now: datetime, last_contact_at: datetime | None,
    clinic: Clinic | None = None,
) -> datetime:
    """When the step at `next_index` falls due: its delay counts from the last real contact,
    so a skipped channel costs the patient no waiting time. A step that messages the patient is
    moved to the clinic's send window, so the workflow wakes once, when it can send."""
    if next_index >= len(ladder):
        return now
    due = now if last_contact_at is None else max(now, last_contact_at + timedelta(days=ladder[next_index].after_days))
    if clinic is not None and ladder[next_index].channel.reaches_patient:
        return next_send_time(due, clinic.send_window, clinic.time_zone)
    return due


def status_after_contact(channel: Channel) -> CycleStatus:
    """R16: "Contacted" after each attempt; the last rungs put the patient in manual review (R15)."""
    if channel in (Channel.MANUAL_REVIEW, Channel.ADMIN_TASK):
        return CycleStatus.MANUAL_REVIEW
    return CycleStatus.CONTACTED
