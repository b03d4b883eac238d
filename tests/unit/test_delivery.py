"""The one send-once delivery (services/delivery.py), on in-memory fakes: claim, send, release on a
transient error, record; a claim left by a crashed try is never resent, and never silently dropped."""

from datetime import UTC, datetime

import pytest
from revisit import clock
from revisit.errors import PermanentSendFailure, TransientError
from revisit.models.common import Channel
from revisit.models.entities import AttemptOutcome, CommunicationAttempt, TaskKind
from revisit.ports import SmsMessage
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
    assert again.entry == first.entry and first.entry.message_id == "sms-1"
    assert len(ctx.notifier.sms) == 1
    assert ctx.tables.attempts.for_patient("p-000001") == [first.entry]
    assert ctx.metrics.counts == {"MessagesSent": 1, "SmsSent": 1}  # the total, and the dashboard's per channel


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
    assert done.outcome == AttemptOutcome.FAILED and "InvalidParameter" in done.entry.detail
    assert deliver_once(ctx, make_patient(), claim(), send_sms(ctx)).outcome == AttemptOutcome.FAILED
    assert ctx.notifier.sms == [] and ctx.metrics.counts == {"MessagesNotSent": 1, "SmsFailed": 1}


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
    assert ctx.metrics.counts == {"MessagesNotSent": 1, "MessagesUnconfirmed": 1, "SmsUnconfirmed": 1}
    # a third try finds the UNCONFIRMED row: nothing more is sent, counted or queued
    deliver_once(ctx, make_patient(), claim(), send_sms(ctx))
    assert len(ctx.notifier.sms) == 1 and ctx.metrics.counts["MessagesNotSent"] == 1
    assert len(ctx.tables.tasks.open_queue("boston", "front_desk")) == 1


def test_a_staff_task_rung_left_half_done_by_a_crash_is_completed_not_doubted(ctx):
    made = []

    def create_task(owned):
        made.append(owned.step)
        return owned.model_copy(update={"outcome": AttemptOutcome.TASK_CREATED, "task_id": "recall_call-p-000001"})

    task_claim = claim("call-1").model_copy(update={"channel": Channel.CALL_TASK, "language": None})
    ctx.tables.attempts.fail_next_record = TransientError("throttled")
    with pytest.raises(TransientError):
        deliver_once(ctx, make_patient(), task_claim, create_task, repeatable=True)
    done = deliver_once(ctx, make_patient(), task_claim, create_task, repeatable=True)
    assert done.outcome == AttemptOutcome.TASK_CREATED and done.by_this_call
    assert made == ["call-1", "call-1"]  # the task's id makes the second creation a no-op
    assert ctx.metrics.counts["MessagesNotSent"] == 0 and ctx.tables.tasks.open_queue("boston", "front_desk") == []
    assert ctx.metrics.counts["CallTaskCreated"] == 1


def test_a_staff_email_is_sent_once_and_a_throttled_one_is_sent_by_the_retry(ctx):
    from revisit.ports import EmailMessage
    from revisit.services.delivery import notify_staff_once

    def email():
        return ctx.notifier.send_email(EmailMessage("admin@clinic.example", "noreply@clinic.example", "Summary", "…", "…"))

    ctx.notifier.fail_next = TransientError("throttled")
    with pytest.raises(TransientError):
        notify_staff_once(ctx, "admin-summary", "2026-11-24", email)
    assert notify_staff_once(ctx, "admin-summary", "2026-11-24", email).sent_now
    assert not notify_staff_once(ctx, "admin-summary", "2026-11-24", email).sent_now
    assert len(ctx.notifier.emails) == 1 and ctx.metrics.counts == {"MessagesSent": 1, "StaffEmailSent": 1}
