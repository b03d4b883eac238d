"""SMS pumping and runaway cost: every SMS goes only to the tenant's countries and within its monthly
budget, whoever sends it; a refused one is recorded FAILED and counted, never retried."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from revisit import clock
from revisit.errors import PermanentSendFailure, TransientError
from revisit.models.common import Channel
from revisit.models.entities import AttemptOutcome, CommunicationAttempt
from revisit.ports import SmsMessage
from revisit.services.delivery import deliver_once
from revisit.services.sms_policy import PolicedNotifier

from tests.conftest import make_patient
from tests.fakes import FakeMetrics, FakeNotifier, FakeSmsSpend

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
US, PREMIUM = "+16172223344", "+882345678901"  # Boston; an international premium-rate range


@pytest.fixture(autouse=True)
def fixed_clock():
    previous = clock.use_clock(clock.FixedClock(NOW))
    yield
    clock.use_clock(previous)


def policed(tenant, budget=None, **changes):
    config = tenant.model_copy(update={"sms_monthly_budget_usd": budget, **changes})
    inner, spend, metrics = FakeNotifier(), FakeSmsSpend(), FakeMetrics()
    return PolicedNotifier(inner, config, spend, metrics), inner, spend, metrics


def test_only_the_clinics_countries_are_texted(tenant):
    notifier, inner, _, metrics = policed(tenant)
    assert tenant.sms_allowed_countries == {"US", "ES", "BG", "RU"}
    notifier.send_sms(SmsMessage(US, "hello", "SMILE"))
    for number in (PREMIUM, "+447911123456", "+2348031234567"):
        with pytest.raises(PermanentSendFailure, match="not among the tenant's countries"):
            notifier.send_sms(SmsMessage(number, "hello", "SMILE"))
    assert len(inner.sms) == 1 and metrics.counts["SmsCountryRefused"] == 3
    only_us, inner, _, _ = policed(tenant, sms_countries=["US"])
    with pytest.raises(PermanentSendFailure):
        only_us.send_sms(SmsMessage("+34612345678", "hola", "SMILE"))


def test_the_monthly_budget_stops_sms_and_a_failed_send_gives_its_cost_back(tenant):
    notifier, inner, spend, metrics = policed(tenant, budget=Decimal("0.02"))
    notifier.send_sms(SmsMessage(US, "one segment", "SMILE"))  # 0.00883 at list price
    notifier.send_sms(SmsMessage(US, "another", "SMILE"))
    with pytest.raises(PermanentSendFailure, match="budget for 2026-11 is spent"):
        notifier.send_sms(SmsMessage(US, "a third", "SMILE"))
    assert len(inner.sms) == 2 and metrics.counts["SmsBudgetReached"] == 1
    assert spend.spent("2026-11") == Decimal("0.01766")
    assert metrics.gauges == {"SmsSpendThisMonthUsd": 0.01766}  # the dashboard's spend against the budget
    inner.fail_next = TransientError("throttled")
    spend.release("2026-11", Decimal("0.00883"))
    with pytest.raises(TransientError):
        notifier.send_sms(SmsMessage(US, "retry me", "SMILE"))
    assert spend.spent("2026-11") == Decimal("0.00883")  # the throttled send's cost came back


def test_a_refused_sms_is_recorded_failed_and_counted_by_the_delivery(tenant):
    from tests.fakes import fake_context

    ctx = fake_context(tenant)
    provider = ctx.notifier
    ctx.notifier = PolicedNotifier(provider, tenant, ctx.tables.sms_spend, ctx.metrics)
    abroad = "+447911123456"  # a valid number, in a country none of the clinics is in
    patient = make_patient(phone=abroad)
    claim = CommunicationAttempt(patient_id=patient.patient_id, cycle_id="2026-11-21", step="sms-1",
                                 channel=Channel.SMS, outcome=AttemptOutcome.SENDING, at=NOW)
    done = deliver_once(ctx, patient, claim, lambda owned: owned.model_copy(update={
        "outcome": AttemptOutcome.SENT, "message_id": ctx.notifier.send_sms(SmsMessage(abroad, "hi", "SMILE"))}))
    assert done.outcome == AttemptOutcome.FAILED and "not among" in done.entry.detail
    assert ctx.metrics.counts["MessagesNotSent"] == 1 and provider.sms == []
