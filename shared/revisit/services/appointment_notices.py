"""The appointment's notices (R19, R20, R22, X7-X9), one call per notice: each checks the appointment is still
at the start time it was planned for (a moved appointment's new time has its own execution), waits for its
moment, then sends once per channel (the attempt ledger, as the recall ladder does).

A booked appointment sends its confirmation, its reminders and its instructions; a no-show sends the
missed-appointment message; a cancellation withdraws the calendar invitation, if one was sent. Channels are
the patient's own, under the one consent rule (domain/consent.py): the confirmation goes by SMS and by email
(it carries the invitation); every other notice by SMS, or by email when SMS is not allowed. Instructions
that no message can carry in time become a front-desk call task: they are never dropped."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from zoneinfo import ZoneInfo

from revisit import clock
from revisit.domain.appointment_notices import (
    ASKS_TO_CONFIRM,
    Notice,
    PlannedNotice,
    follow_up_plan,
    notice_plan,
)
from revisit.domain.consent import may_send
from revisit.errors import NotFound
from revisit.invites import appointment_invite
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
from revisit.models.steps.notices import AppointmentNoticeRequest, AppointmentNoticeResult
from revisit.ports import EmailMessage, SmsMessage
from revisit.rendering import render, render_sms
from revisit.services.booking_links import appointment_url
from revisit.services.confirmation import record_confirmation
from revisit.services.context import TenantContext
from revisit.services.delivery import deliver_once

REACHED = frozenset({AttemptOutcome.SENT, AttemptOutcome.UNCONFIRMED})
BEFORE_THE_VISIT = frozenset({Notice.REMINDER, Notice.INSTRUCTIONS})
MAX_EXECUTION_NAME = 80


def ledger_id(appointment: Appointment) -> str:
    """The attempt ledger's 'cycle' for an appointment's notices: per appointment and start time."""
    return f"appt-{appointment.appointment_id}-{appointment.starts_at.astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M}"


def execution_name(appointment: Appointment, purpose: str = "") -> str:
    """The notices' execution for this start time (and, with a purpose, its no-show or cancellation
    follow-up), within Step Functions' 80 characters whatever the appointment id's length."""
    name = ledger_id(appointment) + (f"-{purpose}" if purpose else "")
    if len(name) <= MAX_EXECUTION_NAME:
        return name
    return f"{name[:MAX_EXECUTION_NAME - 17]}-{hashlib.sha256(name.encode()).hexdigest()[:16]}"


def send_next_notice(request: AppointmentNoticeRequest, ctx: TenantContext) -> AppointmentNoticeResult:
    now = clock.now()
    try:
        appointment = ctx.tables.appointments.get(request.patient_id, request.appointment_id)
    except NotFound:
        return _done(request, now, "appointment not found")
    if appointment.starts_at != request.version:
        return _done(request, now, "appointment moved: the new time has its own notices")
    plan = _plan(ctx, appointment)
    if request.notice_index >= len(plan):
        return _done(request, now, f"appointment {appointment.status.value}: all notices sent")
    planned = plan[request.notice_index]
    if now < planned.at:
        return AppointmentNoticeResult(done=False, notice_index=request.notice_index,
                                       next_at=clock.to_aws_timestamp(planned.at), detail=f"waiting for {planned.step}")
    sent = _send(ctx, appointment, ctx.tables.patients.get(appointment.patient_id), planned, now)
    following = request.notice_index + 1
    if following >= len(plan):
        return AppointmentNoticeResult(done=True, notice_index=following, next_at=clock.to_aws_timestamp(now),
                                       notice=planned.step, sent=sent, detail="last notice sent")
    return AppointmentNoticeResult(done=False, notice_index=following, next_at=clock.to_aws_timestamp(plan[following].at),
                                   notice=planned.step, sent=sent, detail="sent")


def _plan(ctx: TenantContext, appointment: Appointment) -> list[PlannedNotice]:
    clinic = ctx.config.clinic(appointment.clinic_id)
    changed_at = appointment.updated_at or appointment.created_at
    if appointment.status != AppointmentStatus.BOOKED:
        return follow_up_plan(status=appointment.status, changed_at=changed_at, clinic=clinic)
    kind = ctx.config.appointment_type(appointment.appointment_type)
    return notice_plan(booked_at=changed_at, starts_at=appointment.starts_at, kind=kind, clinic=clinic,
                       has_instructions=bool(kind.instructions))


def _done(request: AppointmentNoticeRequest, now, detail: str) -> AppointmentNoticeResult:
    return AppointmentNoticeResult(done=True, notice_index=request.notice_index, next_at=clock.to_aws_timestamp(now),
                                   detail=detail)


def _instructions(ctx: TenantContext, appointment: Appointment, patient: Patient) -> str:
    kind = ctx.config.appointment_type(appointment.appointment_type)
    return kind.instructions.get(patient.language) or kind.instructions.get(ctx.config.default_language) or \
        next(iter(kind.instructions.values()), "")


def _channels(ctx: TenantContext, appointment: Appointment, patient: Patient, notice: Notice) -> list[Channel]:
    sms, email = (may_send(patient, channel, MessageKind.CARE) for channel in (Channel.SMS, Channel.EMAIL))
    if notice == Notice.CONFIRMATION:
        return [c for c, allowed in ((Channel.SMS, sms), (Channel.EMAIL, email)) if allowed]
    if notice == Notice.CANCELLATION:  # only a calendar that holds the invitation needs to be told
        invited = any(a.cycle_id == ledger_id(appointment) and a.step == Notice.CONFIRMATION.value
                      and a.channel == Channel.EMAIL and a.outcome in REACHED
                      for a in ctx.tables.attempts.for_patient(patient.patient_id))
        return [Channel.EMAIL] if invited and email else []
    return [Channel.SMS] if sms else [Channel.EMAIL] if email else []


def _send(ctx: TenantContext, appointment: Appointment, patient: Patient, planned: PlannedNotice, now) -> list[str]:
    """Each channel, once (services/delivery.py); the channels this call sent on."""
    if appointment.confirmation == ConfirmationStatus.DECLINED and planned.notice in BEFORE_THE_VISIT:
        return []  # the patient said they cannot come: the front desk calls them (a task), nothing more is asked
    channels = [] if planned.by_staff else _channels(ctx, appointment, patient, planned.notice)
    if planned.notice == Notice.INSTRUCTIONS and not channels:
        _instructions_by_phone(ctx, appointment, now)
        return []
    sent, reached = [], set()
    for channel in channels:
        claim = CommunicationAttempt(patient_id=patient.patient_id, cycle_id=ledger_id(appointment), step=planned.step,
                                     channel=channel, outcome=AttemptOutcome.SENDING, at=now, language=patient.language)
        done = deliver_once(ctx, patient, claim, lambda owned, c=channel: owned.model_copy(update={
            "outcome": AttemptOutcome.SENT, "message_id": _deliver(ctx, appointment, patient, planned.notice, c)}))
        if done.outcome in REACHED:
            reached.add(channel)
        if done.sent_now:
            sent.append(channel.value)
    if planned.notice in ASKS_TO_CONFIRM:
        # Only an SMS asks for an answer (C / N); an email alone leaves the status for the front desk.
        if Channel.SMS in reached:
            record_confirmation(ctx, appointment, sent=True)
        elif not reached:
            record_confirmation(ctx, appointment, sent=False)
    return sent


def _instructions_by_phone(ctx: TenantContext, appointment: Appointment, now) -> None:
    """No message can carry the instructions before the visit: the front desk phones (a task per booking)."""
    ctx.tables.tasks.create(StaffTask(
        task_id=f"instructions-{ledger_id(appointment)}"[:120], kind=TaskKind.VISIT_INSTRUCTIONS, role=Role.FRONT_DESK,
        clinic_id=appointment.clinic_id, priority=TaskPriority.HIGH, patient_id=appointment.patient_id,
        title=f"Phone patient {appointment.patient_id} with the instructions for appointment "
              f"{appointment.appointment_id} ({clinic_time(ctx, appointment)}): no message can reach them in time",
        due_at=max(now, appointment.starts_at - timedelta(hours=2)), created_at=now))


def clinic_time(ctx: TenantContext, appointment: Appointment) -> str:
    """'2026-11-30 09:00 America/New_York': staff read times in the clinic's own zone."""
    zone = ctx.config.clinic(appointment.clinic_id).time_zone
    return f"{appointment.starts_at.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone}"


def _deliver(ctx: TenantContext, appointment: Appointment, patient: Patient, notice: Notice, channel: Channel) -> str:
    clinic = ctx.config.clinic(appointment.clinic_id)
    kind = ctx.config.appointment_type(appointment.appointment_type)
    name = clinic.name_in_sms if channel == Channel.SMS else clinic.name
    context = {"first_name": patient.first_name, "clinic_name": name, "clinic_phone": clinic.phone,
               "clinic_address": clinic.address, "starts_at": appointment.starts_at.astimezone(ZoneInfo(clinic.time_zone)),
               "visit": kind.labels.get(patient.language) or kind.labels[ctx.config.default_language],
               "instructions": _instructions(ctx, appointment, patient), "notice": notice.value,
               "ask": appointment.confirmation != ConfirmationStatus.CONFIRMED,
               "moved": appointment.status == AppointmentStatus.BOOKED and appointment.updated_at is not None}
    language = patient.language
    # X11: the confirmation and reminders link to confirming or cancelling online (an SMS asks YES/NO too)
    context["manage_url"] = appointment_url(ctx, appointment, sms=channel == Channel.SMS) \
        if notice in (Notice.CONFIRMATION, Notice.REMINDER) else None
    if channel == Channel.SMS:
        text = render_sms(language, f"appointment_{notice.value}_sms.txt", ctx.config.sms_gsm_folding, **context)
        assert patient.phone is not None
        return ctx.notifier.send_sms(SmsMessage(patient.phone, text, ctx.config.sms_sender_id))
    assert patient.email is not None
    template = "appointment_confirmation_email" if notice == Notice.CONFIRMATION else "appointment_notice_email"
    text = render(language, f"{template}.txt", **context)
    attachments: tuple[tuple[str, str, bytes], ...] = ()
    if notice in (Notice.CONFIRMATION, Notice.CANCELLATION):
        invite = appointment_invite(appointment, clinic, context["visit"], ctx.config.sender_email)
        method = "CANCEL" if notice == Notice.CANCELLATION else "REQUEST"
        attachments = (("appointment.ics", f"text/calendar; method={method}", invite),)
    return ctx.notifier.send_email(EmailMessage(
        to=str(patient.email), sender=ctx.config.sender_email,
        subject=render(language, f"{template}_subject.txt", **context),
        text=text, html=render(language, f"{template}.html", text=text, **context), attachments=attachments))
