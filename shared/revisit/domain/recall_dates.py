"""R1, R3, R10: when a recall falls due, how long since the last visit, which day to suggest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import holidays
from dateutil.relativedelta import relativedelta

from revisit.domain.consent import refuses_all
from revisit.models.common import MessageKind
from revisit.models.entities import Patient, PatientStatus, RecallItem
from revisit.models.tenant import Clinic, RecallType


def recall_due_date(last_done: date, recall_type: RecallType) -> date:
    """Month arithmetic clips to the month's end: 31 August + 6 months is 28 (or 29) February."""
    return last_done + relativedelta(months=recall_type.interval_months, days=recall_type.interval_days)


@dataclass(frozen=True)
class DueRecall:
    due_date: date
    recall_types: tuple[str, ...]


def next_due_recall(recalls: list[RecallItem], recall_types: dict[str, RecallType], combine_days: int) -> DueRecall | None:
    """The patient's earliest due date, with every recall type falling due within `combine_days` of it,
    so one contact covers the check-up and the X-rays instead of two messages a week apart."""
    dues = sorted(
        (recall_due_date(item.last_done, recall_types[item.recall_type]), item.recall_type)
        for item in recalls
        if item.recall_type in recall_types
    )
    if not dues:
        return None
    first = dues[0][0]
    window_end = first + timedelta(days=combine_days)
    return DueRecall(first, tuple(sorted({rt for due, rt in dues if due <= window_end})))


def can_start_cycle(patient: Patient, due_date: date) -> bool:
    """Who the nightly sweep may open a cycle for (the due index holds these and no one else): active, not
    opted out of recall, nothing booked, and no cycle opened yet for this due date or a later one."""
    return (
        not refuses_all(patient, MessageKind.RECALL)
        and patient.next_appointment_at is None
        and patient.status != PatientStatus.INACTIVE
        and (patient.recall_cycle_id is None or patient.recall_cycle_id < due_date.isoformat())
    )


def days_since_last_visit(last_visit: date | None, today: date) -> int | None:
    return None if last_visit is None else (today - last_visit).days


def suggest_visit_date(recall_due: date, today: date, clinic: Clinic, min_notice_days: int = 2) -> date:
    """R10: the first working day of the clinic on or after the due date (and with some notice),
    skipping the public holidays of the clinic's country."""
    day = max(recall_due, today + timedelta(days=min_notice_days))
    closed = holidays.country_holidays(clinic.country, years=range(day.year, day.year + 2))
    while day.weekday() not in clinic.working_weekdays or day in closed:
        day += timedelta(days=1)
    return day
