"""The one send-once delivery (services/delivery.py), on in-memory fakes: claim, send, release on a
transient error, record; a claim left by a crashed try is never resent, and never silently dropped."""

from datetime import UTC, datetime

import pytest
from revisit import clock
from revisit.errors import TransientError
from revisit.models.common import Channel
from revisit.models.entities import AttemptOutcome, CommunicationAttempt, TaskKind
from revisit.ports import PermanentSendFailure, SmsMessage
from revisit.services.delivery import deliver_once

from tests.conftest import make_patient
from tests.fakes import fake_context

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
def ctx(tenant):
    previous = clock.use_clock(clock.FixedClock(NOW))
    context = fake_context(tenant)
    context.tables.patients.save(make_patient())
    yield context
    clock.use_clock(previous)


def claim(step="sms-1"):
    return CommunicationAttempt(patient_id="p-000001", cycle_id="2026-11-21", step=step, channel=Channel.SMS,
                                outcome=AttemptOutcome.SENDING, at=NOW, language="en")


def send_sms(ctx):
    def send(owned):
        message_id = ctx.notifier.send_sms(SmsMessage("+16172223344", "Time for your check-up", "SMILE"))
        return owned.model_copy(update={"outcome": AttemptOutcome.SENT, "message_id": message_id})
    return send


def test_a_message_is_sent_and_recorded_once_however_often_it_is_asked_for(ctx):
    patient = make_patient()
    first = deliver_once(ctx, patient, claim(), send_sms(ctx))
    again = deliver_once(ctx, patient, claim(), send_sms(ctx))
    assert first.sent_now and not again.sent_now
    assert again.attempt == first.attempt and first.attempt.message_id == "sms-1"
    assert len(ctx.notifier.sms) == 1
    assert ctx.tables.attempts.for_patient("p-000001") == [first.attempt]
    assert ctx.metrics.counts == {"MessagesSent": 1}


def test_a_throttled_send_releases_its_claim_so_the_retry_sends(ctx):
    ctx.notifier.fail_next = TransientError("throttled")
    with pytest.raises(TransientError):
        deliver_once(ctx, make_patient(), claim(), send_sms(ctx))
    assert ctx.tables.attempts.for_patient("p-000001") == []
    retried = deliver_once(ctx, make_patient(), claim(), send_sms(ctx))
    assert retried.sent_now and len(ctx.notifier.sms) == 1


def test_a_refused_message_is_recorded_failed_and_counted_not_sent(ctx):
    ctx.notifier.fail_next = PermanentSendFailure("InvalidParameter")
    done = deliver_once(ctx, make_patient(), claim(), send_sms(ctx))
    assert done.outcome == AttemptOutcome.FAILED and "InvalidParameter" in done.attempt.detail
    assert deliver_once(ctx, make_patient(), claim(), send_sms(ctx)).outcome == AttemptOutcome.FAILED
    assert ctx.notifier.sms == [] and ctx.metrics.counts == {"MessagesNotSent": 1}


def test_a_crash_between_send_and_record_is_never_resent_counted_and_given_to_staff(ctx):
    ctx.tables.attempts.fail_next_record = TransientError("DynamoDB throttled the outcome's write")
    with pytest.raises(TransientError):
        deliver_once(ctx, make_patient(), claim(), send_sms(ctx))
    assert len(ctx.notifier.sms) == 1  # it went: the provider accepted it
    retried = deliver_once(ctx, make_patient(), claim(), send_sms(ctx))
    assert retried.outcome == AttemptOutcome.UNCONFIRMED and not retried.by_this_call
    assert len(ctx.notifier.sms) == 1  # never twice
    [stored] = ctx.tables.attempts.for_patient("p-000001")
    assert stored.outcome == AttemptOutcome.UNCONFIRMED
    [task] = ctx.tables.tasks.open_queue("boston", "front_desk")
    assert task.kind == TaskKind.DELIVERY_CHECK and task.patient_id == "p-000001"
    assert "Emma" not in task.title and "+1617" not in task.title  # ids only on shared screens
    assert ctx.metrics.counts == {"MessagesNotSent": 1}
    # a third try finds the UNCONFIRMED row: nothing more is sent, counted or queued
    deliver_once(ctx, make_patient(), claim(), send_sms(ctx))
    assert len(ctx.notifier.sms) == 1 and ctx.metrics.counts["MessagesNotSent"] == 1
    assert len(ctx.tables.tasks.open_queue("boston", "front_desk")) == 1
