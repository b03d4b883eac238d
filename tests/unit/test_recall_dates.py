from datetime import UTC, date

from hypothesis import given
from hypothesis import strategies as st
from revisit.domain.recall_dates import (
    days_since_last_visit,
    next_due_recall,
    recall_due_date,
    suggest_visit_date,
)
from revisit.models.entities import RecallItem


def test_six_months_and_a_day_clips_to_month_end(tenant):
    prophy = tenant.recall_type("prophy")
    assert recall_due_date(date(2026, 8, 31), prophy) == date(2027, 3, 1)  # Feb 28 + 1 day
    assert recall_due_date(date(2027, 8, 30), prophy) == date(2028, 3, 1)  # leap year: Feb 29 + 1
    assert recall_due_date(date(2026, 1, 15), tenant.recall_type("perio")) == date(2026, 4, 15)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)))
def test_due_date_is_always_after_the_last_visit(tenant, last):
    for recall_type in tenant.recall_types:
        assert recall_due_date(last, recall_type) > last


def test_recall_types_falling_due_together_share_one_cycle(tenant):
    types = {rt.recall_type: rt for rt in tenant.recall_types}
    due = next_due_recall(
        [RecallItem(recall_type="prophy", last_done=date(2026, 5, 20)),
         RecallItem(recall_type="bitewings", last_done=date(2025, 11, 25)),
         RecallItem(recall_type="pano", last_done=date(2025, 1, 1))],
        types, combine_days=14)
    assert due.due_date == date(2026, 11, 21)
    assert due.recall_types == ("bitewings", "prophy")


def test_days_since_last_visit():
    assert days_since_last_visit(date(2026, 5, 20), date(2026, 11, 24)) == 188
    assert days_since_last_visit(None, date(2026, 11, 24)) is None


def test_suggested_visit_skips_weekends_and_public_holidays(tenant):
    madrid = tenant.clinic("madrid")
    # 2026-12-08 (Tuesday) is the Immaculate Conception, a national holiday in Spain.
    assert suggest_visit_date(date(2026, 12, 8), date(2026, 11, 24), madrid) == date(2026, 12, 9)
    # A Saturday moves to Monday; a past due date moves to two days from today.
    assert suggest_visit_date(date(2026, 11, 28), date(2026, 11, 24), madrid) == date(2026, 11, 30)
    assert suggest_visit_date(date(2026, 10, 1), date(2026, 11, 24), madrid) == date(2026, 11, 26)
    # the chain's own closure days too (24 December: the booking API would refuse it)
    boston = tenant.clinic("boston")
    assert date(2026, 12, 24) in tenant.closure_days
    assert suggest_visit_date(date(2026, 12, 24), date(2026, 11, 24), boston, tenant.closure_days) == date(2026, 12, 28)


def test_each_recall_type_has_its_own_due_date_and_status(tenant):
    """X2: in the open cycle, booked, due within the lead window, or not due; a patient's own interval counts."""
    from datetime import datetime

    from revisit.domain.recall_dates import recall_schedule
    from revisit.models.entities import RecallItem

    from tests.conftest import make_patient
    types = {rt.recall_type: rt for rt in tenant.recall_types}
    patient = make_patient(recalls=[RecallItem(recall_type="prophy", last_done=date(2026, 5, 20)),
                                    RecallItem(recall_type="perio", last_done=date(2026, 10, 1), interval_months=2),
                                    RecallItem(recall_type="pano", last_done=date(2025, 1, 10))])
    today = date(2026, 11, 24)
    by_type = {e["recall_type"]: (e["due_date"], e["status"]) for e in recall_schedule(patient, types, 14, today, ["prophy"])}
    assert by_type == {"prophy": (date(2026, 11, 21), "in recall"), "perio": (date(2026, 12, 1), "due"),
                       "pano": (date(2028, 1, 10), "not due")}
    booked = patient.model_copy(update={"next_appointment_at": datetime(2026, 11, 30, 14, 0, tzinfo=UTC)})
    assert [e["status"] for e in recall_schedule(booked, types, 14, today, [])] == ["booked", "booked", "not due"]
