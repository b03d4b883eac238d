"""Intake (I1, I3) and the treatment plan (I13): pure rules.

I1: a new patient's core data is checked, never completed by guessing: what is missing or implausible is
listed by field name, and becomes the onboarding task's checklist. I3: the profile status moves only
along the transitions below, each with its reason, kept as the status history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from revisit.models.entities import Patient, PatientStatus

ONBOARDING_ITEMS = ("forms", "consent", "insurance_card")
"""I2: what the front office completes with every new patient, whatever the data says."""

STATUS_MOVES: dict[PatientStatus, frozenset[PatientStatus]] = {
    PatientStatus.ACTIVE: frozenset({PatientStatus.FOLLOW_UP, PatientStatus.INACTIVE}),
    PatientStatus.FOLLOW_UP: frozenset({PatientStatus.ACTIVE, PatientStatus.INACTIVE}),
    PatientStatus.INACTIVE: frozenset({PatientStatus.ACTIVE}),
}
"""I3: Follow-up is an active patient with something open (onboarding, a treatment plan); an inactive
patient comes back as Active (a visit) before anything else."""

OLDEST_AGE = 120


def missing_core_data(patient: Patient, today: date) -> list[str]:
    """I1: the fields a first visit needs that are missing or implausible, by name (ids only: the list is a
    staff task's title and a report's column)."""
    missing = []
    if patient.phone is None:
        missing.append("phone")
    if patient.email is None:
        missing.append("email")
    if patient.phone is not None and not patient.sms_consent and (patient.email is None or not patient.email_consent):
        missing.append("contact_consent")
    if patient.date_of_birth > today or today.year - patient.date_of_birth.year > OLDEST_AGE:
        missing.append("date_of_birth")
    if not patient.insurance:
        missing.append("insurance")
    return missing


def status_move_error(current: PatientStatus, target: PatientStatus) -> str | None:
    """Why the profile cannot go from `current` to `target`; None if it can (or it is there already)."""
    if current == target or target in STATUS_MOVES[current]:
        return None
    return f"a patient who is {current.value} cannot become {target.value}"


@dataclass(frozen=True)
class PlannedItem:
    finding: str
    code: str
    tooth: str | None = None


def draft_plan(findings: list[tuple[str, str | None]], plan_for: dict[str, list[str]],
               performed: set[tuple[str, str | None]]) -> list[PlannedItem]:
    """I13: the procedures the findings call for (the tenant's findings table), one per finding, code and
    tooth, less what was done in the same visit; a finding the table does not know plans nothing."""
    items: list[PlannedItem] = []
    for finding, tooth in findings:
        for code in plan_for.get(finding, []):
            item = PlannedItem(finding=finding, code=code, tooth=tooth)
            if (code, tooth) not in performed and item not in items:
                items.append(item)
    return items
