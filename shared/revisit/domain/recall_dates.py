"""R1, R3, R10: when a recall falls due, how long since the last visit, which day to suggest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from revisit.domain.consent import refuses_all
from revisit.models.common import MessageKind
from revisit.models.entities import Patient, PatientStatus, RecallItem
from revisit.models.tenant import Clinic, RecallType


def recall_due_date(last_done: date, recall_type: RecallType, interval_months: int | None = None) -> date:
    """Month arithmetic clips to the month's end: 31 August + 6 months is 28 (or 29) February. A patient's
    own interval (X2) replaces the type's months and days."""
    if interval_months is not None:
        return last_done + relativedelta(months=interval_months)
    return last_done + relativedelta(months=recall_type.interval_months, days=recall_type.interval_days)


@dataclass(frozen=True)
class DueRecall:
    due_date: date
    recall_types: tuple[str, ...]


def next_due_recall(recalls: list[RecallItem], recall_types: dict[str, RecallType], combine_days: int) -> DueRecall | None:
    """The patient's earliest due date, with every recall type falling due within `combine_days` of it,
    so one contact covers the check-up and the X-rays instead of two messages a week apart."""
    dues = sorted(
        (recall_due_date(item.last_done, recall_types[item.recall_type], item.interval_months), item.recall_type)
        for item in recalls
        if item.recall_type in recall_types
    )
    if not dues:
        return None
    first = dues[0][0]
    window_end = first + timedelta(days=combine_days)
    return DueRecall(first, tuple(sorted({rt for due, rt in dues if due <= window_end})))


def cycle_date(patient: Patient, due_date: date, lead_days: int) -> date:
    """The date the due index keys the patient's next cycle by (and its id: one cycle per patient and date).
    The sweep opens a cycle `lead_days` before that date; after a missed visit or an unanswered ladder
    (X1, X3) not before `recall_from` itself, so the key is `recall_from + lead_days` then."""
    return max(due_date, patient.recall_from + timedelta(days=lead_days)) if patient.recall_from else due_date


def visit_done(patient: Patient, visit_day: date, satisfied: list[str], recall_types: dict[str, RecallType],
               lead_days: int) -> Patient:
    """X1: a completed visit is the last visit, and the last time of each recall type it satisfies that was
    due by then (within `lead_days`: bitewings due next spring are not taken at every cleaning). A patient
    with no recall history yet (a first visit) starts every type the visit satisfies."""
    def redone(item: RecallItem) -> bool:
        due = recall_due_date(item.last_done, recall_types[item.recall_type], item.interval_months)
        return item.recall_type in satisfied and due <= visit_day + timedelta(days=lead_days)

    recalls = [item.model_copy(update={"last_done": max(item.last_done, visit_day)})
               if item.recall_type in recall_types and redone(item) else item for item in patient.recalls]
    if not recalls:
        recalls = [RecallItem(recall_type=rt, last_done=visit_day) for rt in satisfied]
    return patient.model_copy(update={"last_visit": max(filter(None, (patient.last_visit, visit_day))),
                                      "recalls": recalls, "recall_from": None})


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


def suggest_visit_date(recall_due: date, today: date, clinic: Clinic, closure_days: list[date] = (),
                       min_notice_days: int = 2) -> date:
    """R10: the first working day of the clinic on or after the due date (and with some notice, so never in
    the past), skipping the public holidays of the clinic's country and the chain's closure days."""
    day = max(recall_due, today + timedelta(days=min_notice_days))
    import holidays  # where used: a quarter of a cold start's imports otherwise (issue 14)

    closed = holidays.country_holidays(clinic.country, years=range(day.year, day.year + 2))
    while day.weekday() not in clinic.working_weekdays or day in closed or day in closure_days:
        day += timedelta(days=1)
    return day


def history_problem(fields: dict, known_types: set[str], today: date) -> tuple[str, str] | None:
    """X4: what is wrong with a recall history sent by an integrator or an import (field, message), if
    anything: recall types the tenant knows, each once, no date after `today`."""
    if fields.get("last_visit") and fields["last_visit"] > today:
        return "last_visit", "is in the future"
    seen: set[str] = set()
    for n, item in enumerate(fields.get("recalls") or []):
        if item["recall_type"] not in known_types:
            return f"recalls.{n}.recall_type", f"unknown recall type {item['recall_type']!r}: one of {sorted(known_types)}"
        if item["recall_type"] in seen:
            return f"recalls.{n}.recall_type", f"{item['recall_type']} is listed twice"
        if item["last_done"] > today:
            return f"recalls.{n}.last_done", "is in the future"
        seen.add(item["recall_type"])
    return None


def recall_schedule(patient: Patient, recall_types: dict[str, RecallType], lead_days: int, today: date,
                    in_cycle: list[str]) -> list[dict]:
    """X2: each recall type of the patient with its own due date and where it stands: 'in recall' (in the
    open cycle), 'booked' (due by the next appointment), 'due' (within the lead window), 'not due'."""
    booked_until = patient.next_appointment_at.date() + timedelta(days=lead_days) if patient.next_appointment_at else None
    schedule = []
    for item in patient.recalls:
        if item.recall_type not in recall_types:
            continue
        due = recall_due_date(item.last_done, recall_types[item.recall_type], item.interval_months)
        if item.recall_type in in_cycle:
            status = "in recall"
        elif booked_until is not None and due <= booked_until:
            status = "booked"
        elif due <= today + timedelta(days=lead_days):
            status = "due"
        else:
            status = "not due"
        schedule.append({"recall_type": item.recall_type, "last_done": item.last_done, "due_date": due,
                         "interval_months": item.interval_months, "status": status})
    return sorted(schedule, key=lambda entry: entry["due_date"])


def merge_history(patient: Patient, last_visit: date | None, recalls: list[RecallItem] | None) -> Patient:
    """X4: history sent again (a nightly export) never moves a date back: a visit Revisit recorded as done
    stays done. The types sent replace the list; each keeps the later last-done date and the sent interval."""
    update: dict = {}
    if last_visit is not None:
        update["last_visit"] = max(filter(None, (patient.last_visit, last_visit)))
    if recalls is not None:
        stored = {item.recall_type: item for item in patient.recalls}
        update["recalls"] = [item.model_copy(update={"last_done": max(item.last_done, stored[item.recall_type].last_done)})
                             if item.recall_type in stored else item for item in recalls]
    return patient.model_copy(update=update)
