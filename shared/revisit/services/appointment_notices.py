"""The appointment's notices (R19, R20, R22), one call per notice: each checks the appointment is still
booked at the start time it was planned for (a cancelled or moved appointment sends nothing), waits for
its moment, then sends once per channel (the attempt ledger, as the recall ladder does)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from revisit import clock
from revisit.domain.appointment_notices import Notice, notice_plan
from revisit.errors import NotFound
from revisit.invites import appointment_invite
from revisit.models.common import Channel
from revisit.models.entities import (
    Appointment,
    AppointmentStatus,
    AttemptOutcome,
    CommunicationAttempt,
    Patient,
)
from revisit.models.steps import AppointmentNoticeRequest, AppointmentNoticeResult
from revisit.ports import EmailMessage, SmsMessage
from revisit.rendering import render, render_sms
from revisit.services.context import TenantContext
from revisit.services.delivery import deliver_once


def ledger_id(appointment: Appointment) -> str:
    """The attempt ledger's 'cycle' for an appointment's notices: per appointment and start time."""
    return f"appt-{appointment.appointment_id}-{appointment.starts_at.astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M}"


def send_next_notice(request: AppointmentNoticeRequest, ctx: TenantContext) -> AppointmentNoticeResult:
    now = clock.now()
    try:
        appointment = ctx.tables.appointments.get(request.patient_id, request.appointment_id)
    except NotFound:
        return _done(request, now, "appointment not found")
    if appointment.status != AppointmentStatus.BOOKED:
        return _done(request, now, f"appointment {appointment.status.value}: nothing more is sent")
    if appointment.starts_at != request.version:
        return _done(request, now, "appointment moved: the new time has its own notices")
    clinic = ctx.config.clinic(appointment.clinic_id)
    kind = ctx.config.appointment_type(appointment.appointment_type)
    patient = ctx.tables.patients.get(appointment.patient_id)
    plan = notice_plan(booked_at=appointment.updated_at or appointment.created_at, starts_at=appointment.starts_at,
                       kind=kind, clinic=clinic, has_instructions=bool(_instructions(kind, patient)))
    if request.notice_index >= len(plan):
        return _done(request, now, "all notices sent")
    planned = plan[request.notice_index]
    if now < planned.at:
        return AppointmentNoticeResult(done=False, notice_index=request.notice_index,
                                       next_at=clock.to_aws_timestamp(planned.at), detail=f"waiting for {planned.notice}")
    sent = _send(ctx, appointment, patient, planned.notice, now)
    following = request.notice_index + 1
    if following >= len(plan):
        return AppointmentNoticeResult(done=True, notice_index=following, next_at=clock.to_aws_timestamp(now),
                                       notice=planned.notice.value, sent=sent, detail="last notice sent")
    return AppointmentNoticeResult(done=False, notice_index=following, next_at=clock.to_aws_timestamp(plan[following].at),
                                   notice=planned.notice.value, sent=sent, detail="sent")


def _done(request: AppointmentNoticeRequest, now, detail: str) -> AppointmentNoticeResult:
    return AppointmentNoticeResult(done=True, notice_index=request.notice_index, next_at=clock.to_aws_timestamp(now),
                                   detail=detail)


def _instructions(kind, patient: Patient) -> str:
    return kind.instructions.get(patient.language) or kind.instructions.get("en", "") if kind.instructions else ""


def _send(ctx: TenantContext, appointment: Appointment, patient: Patient, notice: Notice, now) -> list[str]:
    """Each channel the patient allows, once (services/delivery.py); the channels this call sent on."""
    if patient.opted_out:
        return []
    sent = []
    channels = []
    if patient.phone and patient.sms_consent:
        channels.append(Channel.SMS)
    if notice == Notice.CONFIRMATION and patient.email and patient.email_consent:
        channels.append(Channel.EMAIL)
    for channel in channels:
        claim = CommunicationAttempt(patient_id=patient.patient_id, cycle_id=ledger_id(appointment), step=notice.value,
                                     channel=channel, outcome=AttemptOutcome.SENDING, at=now, language=patient.language)
        done = deliver_once(ctx, patient, claim, lambda owned, c=channel: owned.model_copy(update={
            "outcome": AttemptOutcome.SENT, "message_id": _deliver(ctx, appointment, patient, notice, c)}))
        if done.sent_now:
            sent.append(channel.value)
    return sent


def _deliver(ctx: TenantContext, appointment: Appointment, patient: Patient, notice: Notice, channel: Channel) -> str:
    clinic = ctx.config.clinic(appointment.clinic_id)
    kind = ctx.config.appointment_type(appointment.appointment_type)
    local_start = appointment.starts_at.astimezone(ZoneInfo(clinic.time_zone))
    context = {"first_name": patient.first_name, "clinic_name": clinic.name, "clinic_phone": clinic.phone,
               "clinic_address": clinic.address, "starts_at": local_start,
               "visit": kind.labels.get(patient.language) or kind.labels[ctx.config.default_language],
               "instructions": _instructions(kind, patient)}
    language = patient.language
    if channel == Channel.SMS:
        text = render_sms(language, f"appointment_{notice.value}_sms.txt", ctx.config.sms_gsm_folding, **context)
        assert patient.phone is not None
        return ctx.notifier.send_sms(SmsMessage(patient.phone, text, ctx.config.sms_sender_id))
    text = render(language, "appointment_confirmation_email.txt", **context)
    assert patient.email is not None
    invite = appointment_invite(appointment, clinic, context["visit"], ctx.config.sender_email)
    return ctx.notifier.send_email(EmailMessage(
        to=str(patient.email), sender=ctx.config.sender_email,
        subject=render(language, "appointment_confirmation_email_subject.txt", **context),
        text=text, html=render(language, "appointment_confirmation_email.html", text=text, **context),
        attachments=(("appointment.ics", "text/calendar; method=REQUEST", invite),),
    ))
