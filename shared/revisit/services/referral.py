"""Referral follow-up (F1-F11): a doctor's order becomes a lead, the lead is assigned, called and booked, and
the booking API's events finish it.

One execution of the referral state machine per lead (`lead-<lead id>`) waits on the lead: for the senior
registrar's assignment, for the call day, for the call's outcome, for the visit. While it waits it leaves its
task token on the lead; whatever moves the lead (the API, an appointment event) answers that token with the
lead's new stage, and the execution follows. A step that finds no token pending reads the stage itself, so
a change made while the execution was between two waits is never lost.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from revisit import clock
from revisit.domain.leads import (
    NEVER_REACHED,
    CallOutcome,
    LeadEvent,
    LeadStage,
    call_day,
    is_working_day,
    next_stage,
    next_working_day,
)
from revisit.errors import Conflict, InvalidRequest, NotFound, TransientError
from revisit.models.common import Role
from revisit.models.entities import (
    AppointmentStatus,
    Lead,
    LeadEntry,
    StaffTask,
    TaskKind,
    TaskPriority,
    TaskStatus,
)
from revisit.models.steps.referral import LeadRef, LeadRoute, LeadWait, LeadWaitResult
from revisit.ports import EmailMessage
from revisit.rendering import render
from revisit.services.context import TenantContext
from revisit.services.delivery import notify_staff_once

MACHINE = "referral"
MAX_DUE_DAYS = 300
"""How far ahead a due date may be: the lead's execution must end within Step Functions' one year."""
WAITS = {"assignment": LeadStage.NEW, "call_outcome": LeadStage.ASSIGNED, "visit": LeadStage.BOOKED}
"""What the execution waits for, and the stage the lead is in while it waits for it."""
APPOINTMENT_EVENTS = {"AppointmentBooked": LeadEvent.APPOINTMENT_BOOKED, "AppointmentPaid": LeadEvent.APPOINTMENT_PAID,
                      "AppointmentCancelled": LeadEvent.APPOINTMENT_CANCELLED,
                      "AppointmentNoShow": LeadEvent.APPOINTMENT_NO_SHOW}
"""The booking API's events that move a lead (rules on the tenant's bus deliver them to `referral_events`)."""


def execution_name(lead_id: str) -> str:
    return f"lead-{lead_id}"


def _clinic_now(ctx: TenantContext, clinic_id: str) -> datetime:
    return clock.now().astimezone(ZoneInfo(ctx.config.clinic(clinic_id).time_zone))


def _call_moment(ctx: TenantContext, clinic_id: str, day: date) -> datetime:
    """The call reminder's moment: the tenant's call time on `day` in the clinic's zone; if that has passed
    already or `day` is no working day, the call time of the next working day (never in the past, after hours
    or on a closed day)."""
    clinic = ctx.config.clinic(clinic_id)
    zone = ZoneInfo(clinic.time_zone)
    moment = datetime.combine(day, ctx.config.referral.call_time, tzinfo=zone)
    if moment < clock.now() or not is_working_day(day, clinic.working_weekdays, set(ctx.config.closure_days)):
        later = next_working_day(clock.now().astimezone(zone).date(), clinic.working_weekdays,
                                 set(ctx.config.closure_days))
        moment = datetime.combine(later, ctx.config.referral.call_time, tzinfo=zone)
    return moment


def _comment(ctx: TenantContext, lead: Lead, event: LeadEvent, **context: object) -> str:
    """F2, F8: the order's line ("Dr X ordered ... by ..."), then, once called, the last call's answers."""
    clinic = ctx.config.clinic(lead.clinic_id)
    procedure = ctx.config.procedure(lead.procedure_id).labels.get(clinic.language) or lead.procedure_id
    line = render(clinic.language, "lead_comment.txt", event=event.value, doctor=lead.ordered_by, procedure=procedure,
                  due_date=lead.due_date, lead_id=lead.lead_id, **context)
    if event == LeadEvent.ORDERED:
        return line
    return f"{lead.comment.splitlines()[0]}\n{line}" if lead.comment else line


# --- F1, F2, F3: the order ------------------------------------------------------------------------
def create_order(ctx: TenantContext, *, order_id: str, patient_id: str, procedure_id: str, ordered_by: str,
                 due_date: date, notes: str = "") -> tuple[Lead, bool]:
    """The lead for a doctor's order, and its execution; (lead, created). The order id is the lead's id: the
    same order sent again returns its lead, another order under the same id is a Conflict."""
    try:
        procedure = ctx.config.procedure(procedure_id)
    except KeyError:
        raise InvalidRequest("procedure_id", f"unknown procedure {procedure_id!r}") from None
    try:
        patient = ctx.tables.patients.get(patient_id)
    except NotFound:
        raise InvalidRequest("patient_id", f"unknown patient {patient_id!r}") from None
    now = _clinic_now(ctx, patient.clinic_id)
    if due_date < now.date():
        raise InvalidRequest("due_date", f"{due_date} is in the past (today is {now.date()} at the clinic)")
    if due_date > now.date() + timedelta(days=MAX_DUE_DAYS):
        raise InvalidRequest("due_date", f"at most {MAX_DUE_DAYS} days ahead (a referral execution lasts a year "
                                         "at most)")
    clinic = ctx.config.clinic(patient.clinic_id)
    day = call_day(due_date, ctx.config.referral.call_days_before, now.date(), clinic.working_weekdays,
                   set(ctx.config.closure_days))
    lead = Lead(lead_id=order_id, patient_id=patient_id, clinic_id=patient.clinic_id, procedure_id=procedure_id,
                appointment_type=procedure.appointment_type, ordered_by=ordered_by, due_date=due_date, notes=notes,
                call_at=_call_moment(ctx, patient.clinic_id, day), ordered_at=clock.now(),
                ordered_month=clock.now().astimezone(ZoneInfo(ctx.config.time_zone)).strftime("%Y-%m"))
    late = due_date - timedelta(days=ctx.config.referral.call_days_before) < day or day == now.date()
    lead = lead.model_copy(update={"comment": _comment(ctx, lead, LeadEvent.ORDERED, late=late)})
    entry = LeadEntry(lead_id=order_id, sequence=0, at=clock.now(), event=LeadEvent.ORDERED, by="doctor",
                      stage_before=LeadStage.NEW, stage_after=LeadStage.NEW, detail=f"call reminder {day}")
    created = ctx.tables.leads.create(lead, entry)
    if not created:
        existing = ctx.tables.leads.get(order_id)
        same = (existing.patient_id, existing.procedure_id, existing.due_date, existing.ordered_by) == (
            patient_id, procedure_id, due_date, ordered_by)
        if not same:
            raise Conflict(f"order {order_id} was made with other details")
        lead = existing
    if ctx.workflows is not None:  # again on a retry: the name makes the start happen once
        ctx.workflows.start(MACHINE, execution_name(lead.lead_id), {"lead_id": lead.lead_id})
    return lead, created


def plan_lead(request: LeadRef, ctx: TenantContext) -> LeadRoute:
    """The execution's first step: the senior registrar's task to assign the lead (F4), then where to go."""
    lead = ctx.tables.leads.get(request.lead_id)
    if lead.stage == LeadStage.NEW:
        ctx.tables.tasks.create(StaffTask(
            task_id=f"assign-{lead.lead_id}", kind=TaskKind.ASSIGN_LEAD, role=Role.SENIOR_REGISTRAR,
            clinic_id=lead.clinic_id, priority=TaskPriority.NORMAL, patient_id=lead.patient_id, lead_id=lead.lead_id,
            title=f"Assign a registrar to referral lead {lead.lead_id} (due {lead.due_date})",
            due_at=lead.call_at or clock.now(), created_at=clock.now()))
    return route(ctx, lead)


def route(ctx: TenantContext, lead: Lead) -> LeadRoute:
    """Where the execution goes next. While the lead waits for its call day, the execution looks again at
    each working day's call time (`wake_at`): a Wait state cannot be interrupted, and the call may have
    moved earlier meanwhile (a no-show sends it to the next working day). Times in UTC, as Wait reads them."""
    wake_at = None
    if lead.call_at is not None:
        clinic = ctx.config.clinic(lead.clinic_id)
        zone = ZoneInfo(clinic.time_zone)
        today = clock.now().astimezone(zone).date()
        day = next_working_day(today, clinic.working_weekdays, set(ctx.config.closure_days), include=True)
        next_look = datetime.combine(day, ctx.config.referral.call_time, tzinfo=zone)
        if next_look <= clock.now():
            day = next_working_day(today, clinic.working_weekdays, set(ctx.config.closure_days))
            next_look = datetime.combine(day, ctx.config.referral.call_time, tzinfo=zone)
        wake_at = min(lead.call_at, next_look).astimezone(UTC)
    return LeadRoute(stage=lead.stage, call_at=lead.call_at.astimezone(UTC) if lead.call_at else None,
                     wake_at=wake_at)


# --- waiting on the lead ----------------------------------------------------------------------------
def await_lead(request: LeadWait, ctx: TenantContext) -> LeadWaitResult:
    """Leaves the execution's task token on the lead, if the lead is still where the execution expects it;
    if it moved meanwhile, answers the token at once with where it is now."""
    expected = WAITS[request.waiting_for]
    for _ in range(5):
        lead = ctx.tables.leads.get(request.lead_id)
        if lead.stage != expected:
            ctx.workflows.answer(request.token, route(ctx, lead).model_dump(mode="json"))
            return LeadWaitResult(waiting=False, stage=lead.stage.value)
        changed = lead.model_copy(update={"waiting_token": request.token, "waiting_for": request.waiting_for,
                                          "version": lead.version + 1})
        entry = LeadEntry(lead_id=lead.lead_id, sequence=lead.version + 1, at=clock.now(), event=LeadEvent.WAITING,
                          by="workflow", stage_before=lead.stage, stage_after=lead.stage,
                          detail=f"waiting for the {request.waiting_for.replace('_', ' ')}")
        if ctx.tables.leads.change(lead, changed, entry):
            return LeadWaitResult(waiting=True, stage=lead.stage.value)
    raise TransientError(f"lead {request.lead_id} kept changing")


@dataclass(frozen=True)
class Moved:
    lead: Lead
    applied: bool


def _move(ctx: TenantContext, lead_id: str, event: LeadEvent, by: str, *, detail: str = "",
          changes=lambda lead, stage: {}, refuse: bool = False) -> Moved:
    """Applies `event` to the lead (a guarded transition, on condition of the version read) and answers the
    execution's pending token with the new stage. An event the lead's stage does not allow is recorded on
    the timeline and changes nothing; with `refuse` (a person asked for it through the API) it is a Conflict."""
    settings = ctx.config.referral
    for _ in range(5):
        lead = ctx.tables.leads.get(lead_id)
        attempts_after = lead.call_attempts + (1 if event == LeadEvent.CALL_NO_ANSWER else 0)
        stage = next_stage(lead.stage, event, assigned=lead.assignee is not None, attempts_after=attempts_after,
                           max_attempts=settings.call_attempts)
        at = clock.now()
        if stage is None:
            if refuse:
                raise Conflict(f"lead {lead_id} is {lead.stage.value}: {event.value.replace('_', ' ')} does not apply")
            ctx.tables.leads.record(lead, LeadEntry(
                lead_id=lead_id, sequence=lead.version, at=at, event=event, by=by, stage_before=lead.stage,
                stage_after=lead.stage, applied=False, detail=f"ignored: the lead is {lead.stage.value}; {detail}".strip("; ")))
            return Moved(lead, False)
        update = {"stage": stage, "version": lead.version + 1, "waiting_token": None, "waiting_for": None}
        if stage.is_final:
            update["closed_at"] = at
        update |= changes(lead, stage)
        changed = lead.model_copy(update=update)
        entry = LeadEntry(lead_id=lead_id, sequence=changed.version, at=at, event=event, by=by,
                          stage_before=lead.stage, stage_after=stage, detail=detail)
        if ctx.tables.leads.change(lead, changed, entry):
            if lead.waiting_token and ctx.workflows is not None:
                ctx.workflows.answer(lead.waiting_token, route(ctx, changed).model_dump(mode="json"))
            _close_stale_tasks(ctx, lead, changed, event)
            return Moved(changed, True)
    raise TransientError(f"lead {lead_id} kept changing")


def _close_stale_tasks(ctx: TenantContext, before: Lead, after: Lead, event: LeadEvent) -> None:
    """No queue keeps work the lead no longer needs: the assignment task once it left New, an open call once
    it is booked or final, or reassigned (the new registrar's call comes on the call day)."""
    now = clock.now()
    if before.stage == LeadStage.NEW and after.stage != LeadStage.NEW:
        ctx.tables.tasks.close(f"assign-{before.lead_id}", TaskStatus.DONE if after.assignee else TaskStatus.CANCELLED,
                               now, reason=f"lead {after.stage.value}")
    leaves_the_call = after.stage != LeadStage.ASSIGNED or (event == LeadEvent.ASSIGNED
                                                            and after.assignee != before.assignee)
    if before.stage == LeadStage.ASSIGNED and leaves_the_call and event not in CALL_EVENTS:
        for task in ctx.tables.tasks.open_queue(before.clinic_id, Role.REGISTRAR.value, limit=500):
            if task.lead_id == before.lead_id:
                ctx.tables.tasks.close(task.task_id, TaskStatus.CANCELLED, now,
                                       reason=f"lead {after.stage.value}" + (
                                           f", assigned to {after.assignee}" if event == LeadEvent.ASSIGNED else ""))


CALL_EVENTS = (LeadEvent.CALL_BOOKED, LeadEvent.CALL_REFUSED, LeadEvent.CALL_NO_ANSWER)
"""A recorded call closes its own task (done, with its result)."""


# --- F4: assignment -----------------------------------------------------------------------------------
def assign(ctx: TenantContext, lead_id: str, registrar_id: str, by: str | None = None) -> Lead:
    lead = ctx.tables.leads.get(lead_id)
    try:
        member = ctx.config.staff_member(registrar_id)
    except KeyError:
        raise InvalidRequest("registrar_id", f"unknown staff member {registrar_id!r}") from None
    if member.role != Role.REGISTRAR or member.clinic_id not in (None, lead.clinic_id):
        raise InvalidRequest("registrar_id", f"{registrar_id} is not a registrar of clinic {lead.clinic_id}")
    if by is not None:
        _staff_of(ctx, by, lead.clinic_id, (Role.SENIOR_REGISTRAR, Role.OFFICE_ADMIN, Role.ADMINISTRATOR),
                  "assigned_by")
    moved = _move(ctx, lead_id, LeadEvent.ASSIGNED, by or "senior_registrar", detail=f"assigned to {registrar_id}",
                  refuse=True, changes=lambda lead, stage: {"assignee": registrar_id})
    return moved.lead


def _staff_of(ctx: TenantContext, staff_id: str, clinic_id: str, roles: tuple[Role, ...], field: str) -> None:
    """Who the API says acted must be a staff member of the lead's clinic (or chain-wide) with that role."""
    try:
        member = ctx.config.staff_member(staff_id)
    except KeyError:
        raise InvalidRequest(field, f"unknown staff member {staff_id!r}") from None
    if member.role not in roles or member.clinic_id not in (None, clinic_id):
        raise InvalidRequest(field, f"{staff_id} is not a {' or '.join(r.value for r in roles)} of clinic {clinic_id}")


# --- F5: the call day ---------------------------------------------------------------------------------
def prepare_call(request: LeadRef, ctx: TenantContext) -> LeadRoute:
    """On the call day: the call in the assignee's queue and an email to them, once per attempt. A lead that
    moved on (booked by the patient, reassigned to a later day) is routed instead."""
    lead = ctx.tables.leads.get(request.lead_id)
    if lead.stage != LeadStage.ASSIGNED:
        return route(ctx, lead)
    if lead.call_at is not None and lead.call_at > clock.now():
        return route(ctx, lead)  # not its day yet (or the call moved later): look again
    attempt = lead.call_attempts + 1
    task = StaffTask(
        task_id=f"call-{lead.lead_id}-{lead.version}", kind=TaskKind.REFERRAL_CALL, role=Role.REGISTRAR,
        clinic_id=lead.clinic_id, priority=TaskPriority.HIGH, patient_id=lead.patient_id, lead_id=lead.lead_id,
        assignee=lead.assignee, title=f"Referral call {attempt} for lead {lead.lead_id} (due {lead.due_date})",
        due_at=lead.call_at or clock.now(), created_at=clock.now())
    if ctx.tables.tasks.create(task) and lead.assignee:
        member = ctx.config.staff_member(lead.assignee)
        language = ctx.config.clinic(lead.clinic_id).language
        context = {"registrar": member.name, "lead_id": lead.lead_id, "patient_id": lead.patient_id,
                   "attempt": attempt, "comment": lead.comment}
        text = render(language, "referral_call_email.txt", **context)
        message = EmailMessage(to=str(member.email), sender=ctx.config.sender_email,
                               subject=render(language, "referral_call_email_subject.txt", **context),
                               text=text, html=f"<pre>{html.escape(text)}</pre>")
        notify_staff_once(ctx, "referral-call", task.task_id, lambda: ctx.notifier.send_email(message))
    return route(ctx, lead).model_copy(update={"calling": True})


# --- F6, F8, F11: the call's outcome -------------------------------------------------------------------
def record_call(ctx: TenantContext, lead_id: str, *, outcome: CallOutcome, by: str | None = None,
                refusal_reason: str | None = None, appointment_id: str | None = None,
                wants_contact_later: bool = False) -> Lead:
    lead = ctx.tables.leads.get(lead_id)
    if by is not None:
        _staff_of(ctx, by, lead.clinic_id, (Role.REGISTRAR, Role.SENIOR_REGISTRAR), "registrar_id")
    by = by or lead.assignee or "registrar"
    booked_during_the_call = (outcome == CallOutcome.BOOKED and lead.stage == LeadStage.BOOKED
                              and appointment_id is not None and lead.appointment_id == appointment_id)
    if lead.stage != LeadStage.ASSIGNED and not booked_during_the_call:
        raise Conflict(f"lead {lead_id} is {lead.stage.value}, not being called: no call outcome applies")
    if outcome == CallOutcome.NO_ANSWER and lead.call_at is not None and lead.call_at > clock.now():
        raise Conflict(f"lead {lead_id}'s call is due {lead.call_at.isoformat()}: an unanswered call before then "
                       "would use up an attempt")
    settings = ctx.config.referral
    attempt = lead.call_attempts + 1
    if booked_during_the_call:
        # The registrar booked through the booking API during the call: its event moved the lead first. The
        # call's answers still make the comment (F8).
        appointment = ctx.tables.appointments.get(lead.patient_id, appointment_id)
        local = appointment.starts_at.astimezone(ZoneInfo(ctx.config.clinic(lead.clinic_id).time_zone))
        comment = _comment(ctx, lead, LeadEvent.CALL_BOOKED, attempt=attempt, appointment_at=local)
        changed = lead.model_copy(update={"comment": comment, "version": lead.version + 1,
                                          "calls_made": lead.calls_made + 1})
        entry = LeadEntry(lead_id=lead_id, sequence=changed.version, at=clock.now(), event=LeadEvent.CALL_BOOKED,
                          by=by, stage_before=lead.stage, stage_after=lead.stage,
                          detail=f"appointment {appointment_id}, booked during the call (its event came first)")
        if not ctx.tables.leads.change(lead, changed, entry):
            raise TransientError(f"lead {lead_id} changed meanwhile: send the outcome again")
        moved, result = Moved(changed, True), "booked"
    elif outcome == CallOutcome.BOOKED:
        if not appointment_id:
            raise InvalidRequest("appointment_id", "a booked call names the appointment it booked")
        try:
            appointment = ctx.tables.appointments.get(lead.patient_id, appointment_id)
        except NotFound:
            raise InvalidRequest("appointment_id", f"no appointment {appointment_id} for the lead's patient") from None
        if appointment.status != AppointmentStatus.BOOKED or appointment.appointment_type != lead.appointment_type:
            raise InvalidRequest("appointment_id", f"appointment {appointment_id} is not a booked "
                                 f"{lead.appointment_type} appointment")
        local = appointment.starts_at.astimezone(ZoneInfo(ctx.config.clinic(lead.clinic_id).time_zone))
        comment = _comment(ctx, lead, LeadEvent.CALL_BOOKED, attempt=attempt, appointment_at=local)
        moved = _move(ctx, lead_id, LeadEvent.CALL_BOOKED, by, detail=f"appointment {appointment_id}", refuse=True,
                      changes=lambda read, stage: {"appointment_id": appointment_id, "booked_at": clock.now(),
                                                   "comment": comment, "call_attempts": 0,
                                                   "calls_made": read.calls_made + 1})
        result = "booked"
    elif outcome == CallOutcome.REFUSED:
        if refusal_reason not in ctx.config.refusal_reasons:
            raise InvalidRequest("refusal_reason", f"one of {', '.join(ctx.config.refusal_reasons)}")
        comment = _comment(ctx, lead, LeadEvent.CALL_REFUSED, attempt=attempt,
                           reason_label=ctx.config.refusal_label(refusal_reason,
                                                                 ctx.config.clinic(lead.clinic_id).language),
                           wants_contact_later=wants_contact_later)
        moved = _move(ctx, lead_id, LeadEvent.CALL_REFUSED, by, detail=f"refused: {refusal_reason}", refuse=True,
                      changes=lambda read, stage: {"refusal_reason": refusal_reason, "comment": comment,
                                                   "calls_made": read.calls_made + 1})
        result = "declined"
    else:
        clinic = ctx.config.clinic(lead.clinic_id)
        today = _clinic_now(ctx, lead.clinic_id).date()
        retry = attempt < settings.call_attempts
        next_day = next_working_day(today, clinic.working_weekdays, set(ctx.config.closure_days),
                                    skip=settings.retry_after_days) if retry else None
        comment = _comment(ctx, lead, LeadEvent.CALL_NO_ANSWER, attempt=attempt, attempts=settings.call_attempts,
                           next_call=next_day)
        moved = _move(ctx, lead_id, LeadEvent.CALL_NO_ANSWER, by, refuse=True,
                      detail=f"no answer (call {attempt} of {settings.call_attempts})",
                      changes=lambda read, stage: {"call_attempts": attempt, "comment": comment,
                                                   "calls_made": read.calls_made + 1} | (
                          {"call_at": _call_moment(ctx, read.clinic_id, next_day)} if stage == LeadStage.ASSIGNED
                          else {"refusal_reason": NEVER_REACHED}))
        result = "no_answer"
    for task in ctx.tables.tasks.open_queue(lead.clinic_id, Role.REGISTRAR.value, limit=500):
        if task.lead_id == lead_id:
            ctx.tables.tasks.close(task.task_id, TaskStatus.DONE, clock.now(), result=result, reason=refusal_reason)
    return moved.lead


# --- F7, F9, F10: the booking API's events -------------------------------------------------------------
def apply_appointment_event(ctx: TenantContext, detail_type: str, detail: dict) -> list[Moved]:
    """An appointment event, applied to the patient's open leads for that appointment type. Repeated and
    out-of-order events change nothing (recorded on the lead's timeline): a booking counts only while the
    appointment is still booked; a cancellation or no-show only for the appointment the lead is booked on."""
    event = APPOINTMENT_EVENTS.get(detail_type)
    if event is None or detail.get("tenant_id") not in (None, ctx.config.tenant_id):
        return []
    patient_id, appointment_id = detail["patient_id"], detail["appointment_id"]
    leads = [lead for lead in ctx.tables.leads.for_patient(patient_id)
             if lead.appointment_type == detail.get("appointment_type")]
    if not leads:
        return []
    # the lead this appointment is for: the one booked on it, else the earliest due still open
    on_it = [lead for lead in leads if lead.appointment_id == appointment_id]
    open_leads = sorted((lead for lead in leads if not lead.stage.is_final and lead.appointment_id is None),
                        key=lambda lead: (lead.due_date, lead.lead_id))
    target = on_it[0] if on_it else (open_leads[0] if open_leads else sorted(leads, key=lambda lead: lead.due_date)[-1])
    by, about = "events", f"{detail_type} {appointment_id}"
    if target.stage.is_final:
        return [_ignore(ctx, target, event, f"{about}: the lead is {target.stage.value}")]
    try:
        current = ctx.tables.appointments.get(patient_id, appointment_id)
    except NotFound:
        return [_ignore(ctx, target, event, f"{about}: no such appointment")]
    if event == LeadEvent.APPOINTMENT_BOOKED:
        if target.appointment_id == appointment_id:
            return [_ignore(ctx, target, event, f"{about}: already booked on it")]
        if target.appointment_id is not None:
            return [_ignore(ctx, target, event, f"{about}: the lead is booked on {target.appointment_id}")]
        if current.status != AppointmentStatus.BOOKED:
            return [_ignore(ctx, target, event, f"{about}: the appointment is {current.status.value} now")]
        return [_move(ctx, target.lead_id, event, by, detail=about, changes=lambda lead, stage: {
            "appointment_id": appointment_id, "booked_at": clock.now(), "call_attempts": 0})]
    if event == LeadEvent.APPOINTMENT_PAID:
        if target.appointment_id not in (None, appointment_id):
            return [_ignore(ctx, target, event, f"{about}: the lead is booked on {target.appointment_id}")]
        if current.status not in (AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED):
            # a fee for a missed or cancelled visit is not the procedure done
            return [_ignore(ctx, target, event, f"{about}: a payment for a {current.status.value} appointment")]
        return [_move(ctx, target.lead_id, event, by, detail=about, changes=lambda lead, stage: {
            "appointment_id": appointment_id, "booked_at": lead.booked_at or clock.now()})]
    if target.appointment_id != appointment_id:
        return [_ignore(ctx, target, event, f"{about}: not the appointment the lead is booked on")]
    other = _another_booking(ctx, target, appointment_id)
    if other is not None:  # the patient holds another booking for the procedure: the lead follows it
        return [_rebind(ctx, target, event, other, about)]
    call_at = _call_moment(ctx, target.clinic_id, _clinic_now(ctx, target.clinic_id).date())
    return [_move(ctx, target.lead_id, event, by, detail=f"{about}; new call {call_at.date()}",
                  changes=lambda lead, stage: {"appointment_id": None, "booked_at": None, "call_attempts": 0,
                                               "call_at": call_at})]


def _another_booking(ctx: TenantContext, lead: Lead, but: str) -> str | None:
    booked = sorted((a for a in ctx.tables.appointments.for_patient(lead.patient_id)
                     if a.appointment_type == lead.appointment_type and a.status == AppointmentStatus.BOOKED
                     and a.appointment_id != but and a.starts_at > clock.now()), key=lambda a: a.starts_at)
    return booked[0].appointment_id if booked else None


def _rebind(ctx: TenantContext, lead: Lead, event: LeadEvent, appointment_id: str, about: str) -> Moved:
    changed = lead.model_copy(update={"appointment_id": appointment_id, "version": lead.version + 1})
    entry = LeadEntry(lead_id=lead.lead_id, sequence=changed.version, at=clock.now(), event=event, by="events",
                      stage_before=lead.stage, stage_after=lead.stage,
                      detail=f"{about}; the lead follows the patient's other booking {appointment_id}")
    if not ctx.tables.leads.change(lead, changed, entry):
        raise TransientError(f"lead {lead.lead_id} changed meanwhile")  # the queue retries the message
    return Moved(changed, True)


def _ignore(ctx: TenantContext, lead: Lead, event: LeadEvent, why: str) -> Moved:
    ctx.tables.leads.record(lead, LeadEntry(lead_id=lead.lead_id, sequence=lead.version, at=clock.now(), event=event,
                                            by="events", stage_before=lead.stage, stage_after=lead.stage,
                                            applied=False, detail=f"ignored: {why}"))
    return Moved(lead, False)


# --- staff views ---------------------------------------------------------------------------------------
def calls_due(ctx: TenantContext, registrar_id: str, day: date | None = None) -> list[StaffTask]:
    """A registrar's referral calls due by the end of `day` (default: today at their clinic), earliest first."""
    try:
        member = ctx.config.staff_member(registrar_id)
    except KeyError:
        raise NotFound("registrar", registrar_id) from None
    if member.role != Role.REGISTRAR or member.clinic_id is None:
        raise NotFound("registrar", registrar_id)
    zone = ZoneInfo(ctx.config.clinic(member.clinic_id).time_zone)
    day = day or clock.now().astimezone(zone).date()
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return [task for task in ctx.tables.tasks.open_queue(member.clinic_id, Role.REGISTRAR.value, limit=500)
            if task.kind == TaskKind.REFERRAL_CALL and task.assignee == registrar_id and task.due_at < end]


def past_due(ctx: TenantContext, clinic_id: str) -> list[Lead]:
    """Open leads whose due date has passed (clinic time), earliest first."""
    today = _clinic_now(ctx, clinic_id).date()
    found = [lead for stage in (LeadStage.NEW, LeadStage.ASSIGNED, LeadStage.BOOKED)
             for lead in ctx.tables.leads.open_in_stage(clinic_id, stage.value) if lead.due_date < today]
    return sorted(found, key=lambda lead: (lead.due_date, lead.lead_id))
