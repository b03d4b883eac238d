"""Send-once delivery: the one way anything in Revisit sends a message, to a patient (the recall ladder,
appointment notices, answers to replies) or to staff (the lead dentist's alert, the administrator's
summary), and every sender to come.

Each send has a ledger row (a patient's communication log, or the staff notice's own row):
1. claim the row (SENDING) before anything is sent; a row already there means this send was claimed
   before, and it is never sent again;
2. send;
3. on a transient error (throttling: the send certainly did not happen) release the claim, so the retry
   may send; on a permanent refusal record FAILED;
4. record the outcome (SENT, TASK_CREATED).
A claim found still SENDING was left by a try that died between 1 and 4: the message may have gone. It
becomes UNCONFIRMED, is counted in MessagesNotSent (alarmed) and, for a patient, becomes a front-desk task
to check with them. Nothing is silently skipped. A send that is itself idempotent (a staff task with a
deterministic id) is simply completed by the retry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, TypeVar

from revisit import clock
from revisit.domain.naming import delivery_check_task_id
from revisit.errors import PermanentSendFailure, TransientError
from revisit.models.common import Role
from revisit.models.entities import (
    AttemptOutcome,
    CommunicationAttempt,
    Patient,
    StaffNotice,
    StaffTask,
    TaskKind,
    TaskPriority,
)
from revisit.ports import MetricsSink, SendLedger
from revisit.services import sent_messages
from revisit.services.context import TenantContext

NOT_SENT = frozenset({AttemptOutcome.FAILED, AttemptOutcome.UNCONFIRMED})
INTERRUPTED = "an earlier try died mid-send: the message may or may not have reached its reader"

Entry = TypeVar("Entry", CommunicationAttempt, StaffNotice)


@dataclass(frozen=True)
class Delivered(Generic[Entry]):
    entry: Entry
    """As recorded: by this call, or by an earlier one (then this call sent nothing)."""
    by_this_call: bool

    @property
    def outcome(self) -> AttemptOutcome:
        return self.entry.outcome

    @property
    def sent_now(self) -> bool:
        return self.by_this_call and self.outcome == AttemptOutcome.SENT


def deliver_once(ctx: TenantContext, patient: Patient, claim: CommunicationAttempt,
                 send: Callable[[CommunicationAttempt], CommunicationAttempt], *,
                 repeatable: bool = False) -> Delivered[CommunicationAttempt]:
    """A patient's message (or, with `repeatable`, a staff task on the patient's file), once. `send` does
    the sending for the claim and returns it completed (outcome, provider message id...); it raises
    TransientError (nothing went) or PermanentSendFailure (refused)."""

    def check_with_patient(interrupted: CommunicationAttempt) -> None:
        now = clock.now()
        ctx.tables.tasks.create(StaffTask(
            task_id=delivery_check_task_id(interrupted.patient_id, interrupted.cycle_id, interrupted.step,
                                           interrupted.channel.value),
            kind=TaskKind.DELIVERY_CHECK, role=Role.FRONT_DESK, clinic_id=patient.clinic_id,
            priority=TaskPriority.NORMAL, patient_id=interrupted.patient_id, cycle_id=interrupted.cycle_id,
            title=f"Check with patient {interrupted.patient_id}: the {interrupted.step} "
                  f"{interrupted.channel.value} was interrupted while sending "
                  f"({interrupted.at:%Y-%m-%d %H:%M} UTC) and may not have arrived",
            due_at=now + timedelta(hours=4), created_at=now))

    def sending(owned: CommunicationAttempt) -> CommunicationAttempt:
        sent_messages.forget()
        done = send(owned)
        text = sent_messages.take()  # R24: the message as the patient received it, on their file
        return done.model_copy(update={"text": text}) if text and done.channel.reaches_patient else done

    return _send_once(ctx.tables.attempts, ctx.metrics, claim, sending, check_with_patient, repeatable)


def notify_staff_once(ctx: TenantContext, kind: str, key: str, send: Callable[[], str]) -> Delivered[StaffNotice]:
    """A message to staff, once per kind and key; `send` returns the provider's message id."""
    claim = StaffNotice(kind=kind, key=key, outcome=AttemptOutcome.SENDING, at=clock.now())
    return _send_once(ctx.tables.notices, ctx.metrics, claim,
                      lambda owned: owned.model_copy(update={"outcome": AttemptOutcome.SENT, "message_id": send()}),
                      on_interrupted=None, repeatable=False)


def _send_once(ledger: SendLedger[Entry], metrics: MetricsSink, claim: Entry, send: Callable[[Entry], Entry],
               on_interrupted: Callable[[Entry], None] | None, repeatable: bool) -> Delivered[Entry]:
    earlier = ledger.claim(claim)
    if earlier is not None:
        if earlier.outcome != AttemptOutcome.SENDING:
            return Delivered(earlier, by_this_call=False)
        if not repeatable:
            unconfirmed = earlier.model_copy(update={"outcome": AttemptOutcome.UNCONFIRMED, "detail": INTERRUPTED})
            if ledger.mark_unconfirmed(earlier, INTERRUPTED):  # the first try to find it reports it
                count_outcome(metrics, unconfirmed)
                if on_interrupted is not None:
                    on_interrupted(earlier)
            return Delivered(unconfirmed, by_this_call=False)
        claim = earlier  # completing an idempotent send the crashed try began
    try:
        done = send(claim)
    except TransientError:
        ledger.release(claim)
        raise
    except PermanentSendFailure as exc:
        done = claim.model_copy(update={"outcome": AttemptOutcome.FAILED, "detail": f"provider refused: {exc}"})
    ledger.record(done)
    count_outcome(metrics, done)
    return Delivered(done, by_this_call=True)


OUTCOME_METRIC = {AttemptOutcome.SENT: "Sent", AttemptOutcome.TASK_CREATED: "Created",
                  AttemptOutcome.FAILED: "Failed", AttemptOutcome.UNCONFIRMED: "Unconfirmed"}


def channel_metric(entry: CommunicationAttempt | StaffNotice) -> str | None:
    """The ops dashboard's count for one outcome on one channel: SmsSent, EmailFailed, CallTaskCreated,
    StaffEmailUnconfirmed..."""
    suffix = OUTCOME_METRIC.get(entry.outcome)
    if suffix is None:
        return None
    channel = entry.channel.value if isinstance(entry, CommunicationAttempt) else "staff_email"
    return "".join(word.title() for word in channel.split("_")) + suffix


def count_outcome(metrics: MetricsSink, entry: CommunicationAttempt | StaffNotice) -> None:
    """MessagesNotSent is alarmed (refused or interrupted); MessagesUnconfirmed is the interrupted part."""
    if entry.outcome in NOT_SENT:
        metrics.count("MessagesNotSent")
    elif entry.outcome == AttemptOutcome.SENT:
        metrics.count("MessagesSent")
    if entry.outcome == AttemptOutcome.UNCONFIRMED:
        metrics.count("MessagesUnconfirmed")
    name = channel_metric(entry)
    if name is not None:
        metrics.count(name)
