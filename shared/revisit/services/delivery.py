"""Send-once delivery: the one way anything in Revisit messages a patient (the recall ladder, appointment
notices, answers to replies, and every sender to come).

The patient's communication log is the ledger, one row per patient, ledger id (a recall cycle, an
appointment at a start time, an inbound message), step and channel:
1. claim the row (SENDING) before anything is sent; a row already there means this send was claimed
   before, and it is never sent again;
2. send;
3. on a transient error (throttling: the send certainly did not happen) release the claim, so the retry
   may send; on a permanent refusal record FAILED;
4. record the outcome (SENT, TASK_CREATED).
A claim found still SENDING was left by a try that died between 1 and 4: the message may have gone. It
becomes UNCONFIRMED, is counted in MessagesNotSent (alarmed) and becomes a front-desk task to check with
the patient. Nothing is silently skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from revisit import clock
from revisit.domain.naming import delivery_check_task_id
from revisit.errors import TransientError
from revisit.models.common import Role
from revisit.models.entities import (
    AttemptOutcome,
    CommunicationAttempt,
    Patient,
    StaffTask,
    TaskKind,
    TaskPriority,
)
from revisit.ports import PermanentSendFailure
from revisit.services.context import TenantContext

NOT_SENT = frozenset({AttemptOutcome.FAILED, AttemptOutcome.UNCONFIRMED})
INTERRUPTED = "an earlier try died mid-send: the message may or may not have reached the patient"

Send = Callable[[CommunicationAttempt], CommunicationAttempt]
"""Does the sending for a claim and returns the claim completed (outcome SENT or TASK_CREATED, the
provider's message id...). Raises TransientError (nothing went) or PermanentSendFailure (refused)."""


@dataclass(frozen=True)
class Delivered:
    attempt: CommunicationAttempt
    """As recorded: by this call, or by an earlier one (then this call sent nothing)."""
    by_this_call: bool

    @property
    def outcome(self) -> AttemptOutcome:
        return self.attempt.outcome

    @property
    def sent_now(self) -> bool:
        return self.by_this_call and self.outcome == AttemptOutcome.SENT


def deliver_once(ctx: TenantContext, patient: Patient, claim: CommunicationAttempt, send: Send) -> Delivered:
    earlier = ctx.tables.attempts.claim(claim)
    if earlier is not None:
        if earlier.outcome == AttemptOutcome.SENDING:
            return Delivered(_interrupted(ctx, patient, earlier), by_this_call=False)
        return Delivered(earlier, by_this_call=False)
    try:
        done = send(claim)
    except TransientError:
        ctx.tables.attempts.release(claim)
        raise
    except PermanentSendFailure as exc:
        done = claim.model_copy(update={"outcome": AttemptOutcome.FAILED, "detail": f"provider refused: {exc}"})
    ctx.tables.attempts.record(done)
    if done.outcome in NOT_SENT:
        ctx.metrics.count("MessagesNotSent")
    elif done.outcome == AttemptOutcome.SENT:
        ctx.metrics.count("MessagesSent")
    return Delivered(done, by_this_call=True)


def _interrupted(ctx: TenantContext, patient: Patient, claim: CommunicationAttempt) -> CommunicationAttempt:
    unconfirmed = claim.model_copy(update={"outcome": AttemptOutcome.UNCONFIRMED, "detail": INTERRUPTED})
    if ctx.tables.attempts.mark_unconfirmed(claim, INTERRUPTED):  # the first try to find it reports it
        ctx.metrics.count("MessagesNotSent")
        now = clock.now()
        ctx.tables.tasks.create(StaffTask(
            task_id=delivery_check_task_id(claim.patient_id, claim.cycle_id, claim.step, claim.channel.value),
            kind=TaskKind.DELIVERY_CHECK, role=Role.FRONT_DESK, clinic_id=patient.clinic_id,
            priority=TaskPriority.NORMAL, patient_id=claim.patient_id, cycle_id=claim.cycle_id,
            title=f"Check with patient {claim.patient_id}: the {claim.step} {claim.channel.value} was interrupted "
                  f"while sending ({claim.at:%Y-%m-%d %H:%M} UTC) and may not have arrived",
            due_at=now + timedelta(hours=4), created_at=now))
    return unconfirmed
