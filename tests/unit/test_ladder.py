from datetime import UTC, date, datetime, timedelta

from revisit.domain.ladder import (
    ContactNow,
    LadderFinished,
    SkipStep,
    StopCycle,
    WaitUntil,
    next_contact_after,
    next_ladder_action,
    status_after_contact,
)
from revisit.models.common import Channel
from revisit.models.entities import AttemptOutcome, CycleStatus, RecallCycle

from tests.conftest import make_patient

NOON_BOSTON = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # Tuesday 12:00 in Boston


def cycle(**overrides):
    values = dict(patient_id="p-000001", cycle_id="2026-11-30", clinic_id="boston", patient_name="x",
                  recall_due_date=date(2026, 11, 30), recall_types=["prophy"], next_contact_at=NOON_BOSTON,
                  execution_name="recall-p-000001-20261130", opened_at=NOON_BOSTON)
    values.update(overrides)
    return RecallCycle(**values)


def action(tenant, c=None, patient=None, now=NOON_BOSTON, booked=False):
    return next_ladder_action(cycle=c or cycle(), patient=patient or make_patient(), ladder=tenant.contact_ladder,
                              clinic=tenant.clinic("boston"), now=now, has_upcoming_appointment=booked)


def test_first_rung_is_an_sms(tenant):
    assert action(tenant) == ContactNow(tenant.contact_ladder[0])


def test_stops_before_any_contact_when_booked_declined_or_opted_out(tenant):
    assert action(tenant, booked=True).status == CycleStatus.BOOKED
    assert action(tenant, patient=make_patient(opted_out=True)).status == CycleStatus.OPTED_OUT
    declined = action(tenant, c=cycle(status=CycleStatus.DECLINED))
    assert isinstance(declined, StopCycle) and declined.status == CycleStatus.DECLINED


def test_skips_sms_without_consent_or_phone(tenant):
    assert action(tenant, patient=make_patient(sms_consent=False)) == SkipStep(
        tenant.contact_ladder[0], AttemptOutcome.SKIPPED_NO_CONSENT)
    assert action(tenant, patient=make_patient(phone=None, sms_consent=False)).outcome == AttemptOutcome.SKIPPED_NO_ADDRESS


def test_waits_for_the_send_window_at_night(tenant):
    night = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # 23:00 in Boston
    result = action(tenant, c=cycle(next_contact_at=night), now=night)
    assert result == WaitUntil(datetime(2026, 11, 25, 14, 0, tzinfo=UTC), "send_window")  # 09:00 EST


def test_waits_for_the_rung_to_fall_due(tenant):
    later = NOON_BOSTON + timedelta(days=7)
    assert action(tenant, c=cycle(step_index=1, next_contact_at=later)) == WaitUntil(later, "ladder")


def test_staff_rungs_ignore_the_send_window(tenant):
    night = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
    assert action(tenant, c=cycle(step_index=2, next_contact_at=night), now=night) == ContactNow(tenant.contact_ladder[2])


def test_ladder_finishes_after_the_last_rung(tenant):
    assert action(tenant, c=cycle(step_index=len(tenant.contact_ladder))) == LadderFinished()


def test_a_skipped_channel_costs_no_waiting_time(tenant):
    ladder = tenant.contact_ladder
    assert next_contact_after(ladder, 1, NOON_BOSTON, None) == NOON_BOSTON
    assert next_contact_after(ladder, 1, NOON_BOSTON, NOON_BOSTON) == NOON_BOSTON + timedelta(days=7)


def test_last_rungs_mean_manual_review():
    assert status_after_contact(Channel.SMS) == CycleStatus.CONTACTED
    assert status_after_contact(Channel.MANUAL_REVIEW) == CycleStatus.MANUAL_REVIEW
