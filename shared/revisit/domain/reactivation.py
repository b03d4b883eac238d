"""Reactivation (A1-A8) and the retention score (R25): pure rules.

A patient is inactive (A1) when their last visit is `inactive_after_months` behind them and nothing is
booked, or when the recall loop handed them over (X3: cycles nobody answered). A campaign targets segments
(A4: treatment, age band, clinic, time since the last visit) and walks each patient down a chain of links
(A5: email, then SMS, then a call task), stopping at the first response.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from dateutil.relativedelta import relativedelta


class Treatment(StrEnum):
    """A4: what the patient was being treated for; each has its own reactivation message (A3)."""

    ORTHODONTICS = "orthodontics"
    PROSTHESIS = "prosthesis"
    PERIODONTAL = "periodontal"
    GENERAL = "general"


AGE_BANDS = ((0, 17, "0-17"), (18, 34, "18-34"), (35, 49, "35-49"), (50, 64, "50-64"), (65, 200, "65+"))
"""A4: age bands, inclusive."""
LAPSE_BANDS = ((0, 11, "under 12 months"), (12, 23, "12-23 months"), (24, 47, "24-47 months"),
               (48, 10_000, "48 months or more"))
"""A4: time since the last visit, in whole months."""


def age_band(date_of_birth: date, today: date) -> str:
    age = relativedelta(today, date_of_birth).years
    return next(label for low, high, label in AGE_BANDS if low <= age <= high)


def months_since(last_visit: date | None, today: date) -> int | None:
    if last_visit is None:
        return None
    delta = relativedelta(today, last_visit)
    return delta.years * 12 + delta.months


def lapse_band(last_visit: date | None, today: date) -> str:
    months = months_since(last_visit, today)
    if months is None:
        return LAPSE_BANDS[-1][2]
    return next(label for low, high, label in LAPSE_BANDS if low <= months <= high)


def inactive_from(last_visit: date | None, months: int) -> date | None:
    """A1: the day a patient with no booking becomes inactive (None: never visited, nothing to measure)."""
    return last_visit + relativedelta(months=months) if last_visit is not None else None


@dataclass(frozen=True)
class Segment:
    """A4: who a campaign targets; an empty list means any."""

    clinics: tuple[str, ...] = ()
    treatments: tuple[Treatment, ...] = ()
    age_bands: tuple[str, ...] = ()
    lapse_bands: tuple[str, ...] = ()

    def matches(self, *, clinic_id: str, treatment: Treatment, date_of_birth: date, last_visit: date | None,
                today: date) -> bool:
        return ((not self.clinics or clinic_id in self.clinics)
                and (not self.treatments or treatment in self.treatments)
                and (not self.age_bands or age_band(date_of_birth, today) in self.age_bands)
                and (not self.lapse_bands or lapse_band(last_visit, today) in self.lapse_bands))

    def overlaps(self, other: Segment) -> bool:
        """Two segments share patients if every dimension shares a value (an empty list is every value)."""
        def shared(mine: tuple, theirs: tuple) -> bool:
            return not mine or not theirs or bool(set(mine) & set(theirs))

        return (shared(self.clinics, other.clinics) and shared(self.treatments, other.treatments)
                and shared(self.age_bands, other.age_bands) and shared(self.lapse_bands, other.lapse_bands))


def retention_score(outcomes: list[str]) -> int:
    """R25: how reliably a patient keeps their recall, 0-100, from the outcomes of their recall cycles,
    oldest first: "booked" (came back when asked), "declined", "unanswered", "missed" (booked, then a
    no-show or a cancellation). Each cycle is weighted by recency (the latest counts most: weight n for
    the n-th of n cycles); booked counts 1, declined 0.25 (answered, at least), missed and unanswered 0.
    Smoothed towards 50 for patients with little history: (2 × 0.5 + Σ w·v) / (2 + Σ w), × 100, rounded.
    A patient with no cycles yet scores 50."""
    values = {"booked": 1.0, "declined": 0.25, "unanswered": 0.0, "missed": 0.0}
    weighted, weights = 0.0, 0.0
    for position, outcome in enumerate(outcomes, start=1):
        if outcome in values:
            weighted += position * values[outcome]
            weights += position
    return round(100 * (1.0 + weighted) / (2.0 + weights))
