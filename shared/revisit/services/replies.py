"""Two-way SMS: a patient's reply to the clinic's number. C/YES confirms the next appointment, NO declines
it (a front-desk task to rebook or cancel); STOP opts the patient out of SMS, STOPALL out of SMS and email,
START back into SMS; anything else gets a polite answer in the patient's language and a front-desk task. Every reply is logged on the patient's file (R24), once per message id; a
STOP or START changes consent in the same transaction as its log, so neither is ever lost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from revisit import clock
from revisit.domain.consent import may_send
from revisit.domain.replies import Reply, classify
from revisit.models.common import Channel, MessageKind, Role
from revisit.models.entities import (
    Appointment,
    AppointmentStatus,
    AttemptOutcome,
    CommunicationAttempt,
    ConfirmationStatus,
    Patient,
    StaffTask,
    TaskKind,
    TaskPriority,
)
from revisit.ports import SmsMessage
from revisit.rendering import render_sms
from revisit.services.appointment_notices import clinic_time
from revisit.services.confirmation import record_confirmation
from revisit.services.context import TenantContext
from revisit.services.delivery import deliver_once

INBOUND = "inbound"  # the attempt ledger's 'cycle' for replies
ANSWERS = "answers"  # and for Revisit's answers to them


CONSENT_CHANGES = {
    Reply.STOP: ({"sms_consent": False}, "sms consent withdrawn"),
    Reply.STOP_ALL: ({"sms_consent": False, "email_consent": False}, "sms and email consent withdrawn"),
    Reply.START: ({"sms_consent": True}, "sms consent given"),
}
"""What each consent reply changes. START resumes SMS only: email comes back through the clinic."""


@dataclass(frozen=True)
class ReplyHandled:
    reply: Reply
    patients: int
    action: str


def handle_reply(ctx: TenantContext, phone: str, text: str, message_id: str) -> ReplyHandled:
    reply = classify(text)
    patients = ctx.tables.patients.by_phone(phone)
    if not patients:
        return ReplyHandled(reply, 0, "unknown number: ignored")
    now = clock.now()
    rows = [CommunicationAttempt(patient_id=patient.patient_id, cycle_id=INBOUND, step=_step(message_id),
                                 channel=Channel.SMS, outcome=AttemptOutcome.RECEIVED, at=now,
                                 language=patient.language, message_id=message_id, detail=f"{reply.value}: {text[:300]}")
            for patient in patients]
    duplicate = ReplyHandled(reply, len(patients), "duplicate delivery: already handled")
    if reply in CONSENT_CHANGES:
        # The consent change and the reply's log are one transaction: never one without the other.
        change, action = CONSENT_CHANGES[reply]
        if not ctx.tables.attempts.log_reply(rows, **change):
            return duplicate
        return ReplyHandled(reply, len(patients), action)
    # What other replies do is idempotent (a confirmation, a send-once answer, a task by id): done before
    # the log, so a crash in between only repeats it.
    answered = _answer_next(ctx, patients, now, reply) if reply in ANSWERS_TO_CONFIRM else None
    if answered is not None and reply == Reply.CONFIRM:
        action = "appointment confirmed"
    elif answered is not None:
        _declined_task(ctx, answered, message_id, now)
        action = "appointment declined: handed to the front desk"
    else:
        _hand_to_front_desk(ctx, patients[0], message_id, now)
        action = "answered and handed to the front desk"
    if not ctx.tables.attempts.log_reply(rows):
        return duplicate
    return ReplyHandled(reply, len(patients), action)


def _step(message_id: str) -> str:
    """An identifier (at most 40 characters) from the carrier's message id."""
    return "reply-" + "".join(c for c in message_id.lower() if c.isalnum())[:34]


ANSWERS_TO_CONFIRM = {Reply.CONFIRM: ConfirmationStatus.CONFIRMED, Reply.DECLINE: ConfirmationStatus.DECLINED}


def _answer_next(ctx: TenantContext, patients: list[Patient], now, reply: Reply) -> Appointment | None:
    """X7: the answer goes to the soonest booked appointment of those patients, from now on."""
    upcoming = [a for p in patients for a in ctx.tables.appointments.for_patient(p.patient_id)
                if a.status == AppointmentStatus.BOOKED and a.starts_at > now]
    if not upcoming:
        return None
    soonest = min(upcoming, key=lambda a: a.starts_at)
    record_confirmation(ctx, soonest, answer=ANSWERS_TO_CONFIRM[reply])
    return soonest


def _declined_task(ctx: TenantContext, appointment: Appointment, message_id: str, now) -> None:
    ctx.tables.tasks.create(StaffTask(
        task_id=f"declined-{_step(message_id)}", kind=TaskKind.APPOINTMENT_DECLINED, role=Role.FRONT_DESK,
        clinic_id=appointment.clinic_id, priority=TaskPriority.HIGH, patient_id=appointment.patient_id,
        title=f"Patient {appointment.patient_id} answered no for appointment {appointment.appointment_id} "
              f"({clinic_time(ctx, appointment)}): call to rebook or cancel it",
        due_at=min(appointment.starts_at, now + timedelta(hours=4)), created_at=now))


def _hand_to_front_desk(ctx: TenantContext, patient: Patient, message_id: str, now) -> None:
    clinic = ctx.config.clinic(patient.clinic_id)
    if may_send(patient, Channel.SMS, MessageKind.CARE):
        text = render_sms(patient.language, "reply_received_sms.txt", ctx.config.sms_gsm_folding,
                          clinic_name=clinic.name_in_sms, clinic_phone=clinic.phone)
        phone = patient.phone
        answer = CommunicationAttempt(patient_id=patient.patient_id, cycle_id=ANSWERS, step=_step(message_id),
                                      channel=Channel.SMS, outcome=AttemptOutcome.SENDING, at=now,
                                      language=patient.language)
        deliver_once(ctx, patient, answer, lambda owned: owned.model_copy(update={
            "outcome": AttemptOutcome.SENT,
            "message_id": ctx.notifier.send_sms(SmsMessage(phone, text, ctx.config.sms_sender_id))}))
    ctx.tables.tasks.create(StaffTask(
        task_id=f"reply-{_step(message_id)}", kind=TaskKind.PATIENT_REPLY, role=Role.FRONT_DESK,
        clinic_id=patient.clinic_id, priority=TaskPriority.HIGH, patient_id=patient.patient_id,
        title=f"Patient {patient.patient_id} replied by SMS: read it on the patient's file and answer",
        due_at=now + timedelta(hours=4), created_at=now))
