"""Segments (A4), the inactive date (A1) and the retention score (R25): pure rules."""

from datetime import date

from revisit.domain.reactivation import (
    Segment,
    Treatment,
    age_band,
    inactive_from,
    lapse_band,
    retention_score,
)

TODAY = date(2026, 11, 23)


def test_a_patient_becomes_inactive_the_tenants_months_after_the_last_visit():
    assert inactive_from(date(2025, 5, 23), 18) == TODAY
    assert inactive_from(date(2024, 8, 31), 18) == date(2026, 2, 28)  # month ends are clamped
    assert inactive_from(None, 18) is None


def test_age_and_lapse_bands():
    assert age_band(date(2008, 11, 24), TODAY) == "0-17" and age_band(date(2008, 11, 23), TODAY) == "18-34"
    assert age_band(date(1950, 1, 1), TODAY) == "65+"
    assert lapse_band(date(2025, 12, 1), TODAY) == "under 12 months"
    assert lapse_band(date(2024, 3, 10), TODAY) == "24-47 months"
    assert lapse_band(None, TODAY) == "48 months or more"


def test_a_segment_matches_on_every_dimension_an_empty_one_means_any():
    ortho_adults = Segment(treatments=(Treatment.ORTHODONTICS,), age_bands=("18-34",))
    values = dict(clinic_id="boston", date_of_birth=date(1995, 6, 1), last_visit=date(2024, 1, 1), today=TODAY)
    assert ortho_adults.matches(treatment=Treatment.ORTHODONTICS, **values)
    assert not ortho_adults.matches(treatment=Treatment.PROSTHESIS, **values)
    assert Segment().matches(treatment=Treatment.GENERAL, **values)


def test_segments_overlap_when_every_dimension_shares_a_value():
    assert Segment(clinics=("boston",)).overlaps(Segment(treatments=(Treatment.GENERAL,)))
    assert not Segment(clinics=("boston",)).overlaps(Segment(clinics=("madrid",)))
    assert not Segment(treatments=(Treatment.ORTHODONTICS,)).overlaps(Segment(treatments=(Treatment.PROSTHESIS,)))


def test_the_retention_score_weighs_recent_recalls_most_and_starts_at_the_middle():
    """R25: booked 1, declined 0.25, unanswered or missed 0, weighted by recency, smoothed towards 50."""
    assert retention_score([]) == 50
    assert retention_score(["booked"]) == round(100 * 2 / 3)
    assert retention_score(["booked", "booked", "booked"]) == round(100 * 7 / 8)
    assert retention_score(["unanswered", "unanswered"]) == round(100 * 1 / 5)
    # the same history in another order: the latest counts most
    assert retention_score(["unanswered", "booked"]) > retention_score(["booked", "unanswered"])
    assert retention_score(["booked", "missed"]) < retention_score(["booked"])
    assert retention_score(["declined"]) == round(100 * 1.25 / 3)
