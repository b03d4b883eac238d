"""The recall workflow's steps (R2-R10, R15, R16, R24, R27): what each Lambda of the Recall state machine does."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from revisit import clock
from revisit.domain.consent import refuses_all
from revisit.domain.insurance import most_recent_policy
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
from revisit.domain.naming import recall_task_id
from revisit.domain.recall_dates import days_since_last_visit, next_due_recall, recall_due_date
from revisit.domain.sms import sms_segments
from revisit.errors import Conflict, NotFound, TransientError
from revisit.models.common import Channel, MessageKind, Role
from revisit.models.entities import (
    AttemptOutcome,
    CommunicationAttempt,
    CycleStatus,
    Patient,
    PatientStatus,
    RecallCycle,
    StaffTask,
    TaskKind,
    TaskPriority,
    TaskStatus,
)
from revisit.models.steps.recall import (
    ContactResult,
    OpenRecallRequest,
    OpenRecallResult,
    PrepareRecallRequest,
    PrepareRecallResult,
    RecallRef,
    RecallTasksResult,
    VerifyInsuranceResult,
)
from revisit.models.tenant import LadderStep
from revisit.ports import EmailMessage, SmsMessage
from revisit.rendering import render, render_sms
from revisit.services.booking_links import booking_url
from revisit.services.context import TenantContext
from revisit.services.delivery import deliver_once
from revisit.services.patients import change_patient
from revisit.services.retention import CYCLE_OUTCOMES, with_score
from revisit.services.suggestion import suggested_visit_day
from revisit.services.unsubscribe import unsubscribe_url

CYCLE_TASK_KINDS = (TaskKind.RECALL, TaskKind.RECALL_CALL, TaskKind.MANUAL_REVIEW, TaskKind.ADMIN_FOLLOW_UP,
                    TaskKind.CHART_REVIEW)
"""Staff work that exists for a cycle; all of it ends with the cycle, except the chart review of a patient
who booked (the hygienist still reads the chart before the visit)."""


ELIGIBILITY_TRIES = 3
"""Tries of the eligibility provider (one per try of the OpenRecall step) before the ladder runs without it."""


def open_recall(request: OpenRecallRequest, ctx: TenantContext) -> OpenRecallResult:
    """The Recall machine's first step: open the cycle (R2, R3, R7, R10), the staff's tasks (R4, R8) and the
    coverage check (R9), one read-decide-write. Each part is idempotent, so a retried step redoes nothing: the
    cycle opens once, the tasks have deterministic ids, the coverage is recorded again with the same answer."""
    prepared = prepare_recall(request, ctx)
    if not prepared.proceed:
        return OpenRecallResult(cycle_id=prepared.cycle_id, outcome="stopped",  # the ladder's first look ends it
                                next_contact_at=clock.to_aws_timestamp(clock.now()), detail=prepared.reason)
    ref = RecallRef(execution_name=request.execution_name, patient_id=request.patient_id, cycle_id=prepared.cycle_id)
    create_recall_tasks(ref, ctx)
    try:
        coverage = verify_insurance(ref, ctx).coverage
    except TransientError:
        if request.retry_count + 1 < ELIGIBILITY_TRIES:
            raise  # the step's retry asks the provider again
        ctx.metrics.count("EligibilityUnavailable")
        coverage = None  # R9: the ladder runs; coverage is checked again before the visit
    return OpenRecallResult(cycle_id=prepared.cycle_id, outcome="wait", next_contact_at=prepared.next_contact_at,
                            detail=prepared.reason, coverage=coverage)


def prepare_recall(request: PrepareRecallRequest, ctx: TenantContext) -> PrepareRecallResult:
    """R2 contact details, R3 days since the last visit, R7 'Pending recall', R10 the suggested visit date.
    Opens the cycle (and takes the patient off the due index) exactly once."""
    cycle_id = request.recall_due_date.isoformat()
    try:
        existing = ctx.tables.cycles.get(request.patient_id, cycle_id)
    except NotFound:
        pass
    else:
        ctx.tables.cycles.mark_patient_in_cycle(existing)  # finish what a crashed try may have left undone
        return _prepared(existing, "cycle already open (step retried)")
    patient = ctx.tables.patients.get(request.patient_id)
    clinic = ctx.config.clinic(patient.clinic_id)
    now = clock.now()
    today = now.astimezone(ZoneInfo(clinic.time_zone)).date()
    # X2: the types due by the time this cycle's messages go (tonight and the lead window), not every type
    # the patient has (a pano due in three years waits); the real due date, not the cycle's key.
    types = {rt.recall_type: rt for rt in ctx.config.recall_types}
    due = next_due_recall(patient.recalls, types, ctx.config.sweep.lead_days)
    horizon = max(due.due_date if due else today, today) + timedelta(days=ctx.config.sweep.lead_days)
    due_types = [item.recall_type for item in patient.recalls if item.recall_type in types
                 and recall_due_date(item.last_done, types[item.recall_type], item.interval_months) <= horizon]
    due_types = due_types or [ctx.config.recall_types[0].recall_type]
    earlier = patient.recall_cycle_id
    cycle = RecallCycle(
        patient_id=patient.patient_id,
        cycle_id=cycle_id,
        clinic_id=patient.clinic_id,
        patient_name=patient.display_name,
        recall_due_date=min(due.due_date, request.recall_due_date) if due else request.recall_due_date,
        rebook=patient.recall_from is not None and _ended(ctx, patient.patient_id, earlier) == CycleStatus.BOOKED,
        recall_types=sorted(set(due_types)),
        next_contact_at=next_contact_after(ctx.config.contact_ladder, 0, now, None, clinic),
        days_since_last_visit=days_since_last_visit(patient.last_visit, today),
        suggested_visit_date=suggested_visit_day(ctx, patient.clinic_id, due_types, request.recall_due_date),
        execution_name=request.execution_name,
        opened_at=now,
    )
    try:
        ctx.tables.cycles.open(cycle)
    except Conflict:
        return _prepared(ctx.tables.cycles.get(request.patient_id, cycle_id), "cycle opened by an earlier try")
    ctx.tables.daily_counts.add(patient.clinic_id, today, "opened")  # once: the open above is conditional
    _supersede(ctx, request.patient_id, earlier, cycle_id)
    if _has_upcoming(patient, now):
        end_cycle(ctx, cycle, CycleStatus.BOOKED, "already booked when the cycle opened")
        return _prepared(cycle.model_copy(update={"status": CycleStatus.BOOKED}), "already booked")
    if refuses_all(patient, MessageKind.RECALL):
        end_cycle(ctx, cycle, CycleStatus.OPTED_OUT, "opted out before the cycle opened")
        return _prepared(cycle.model_copy(update={"status": CycleStatus.OPTED_OUT}), "opted out")
    return _prepared(cycle, "cycle opened")


def _ended(ctx: TenantContext, patient_id: str, cycle_id: str | None) -> CycleStatus | None:
    """How the patient's previous cycle stands (Booked, then the visit did not happen: a rebook)."""
    if cycle_id is None:
        return None
    try:
        return ctx.tables.cycles.get(patient_id, cycle_id).status
    except NotFound:
        return None


def _supersede(ctx: TenantContext, patient_id: str, earlier: str | None, cycle_id: str) -> None:
    """X3: the cycle a re-surfaced patient left unanswered ends when the new one opens (its open staff
    work with it): one open cycle per patient."""
    if earlier is None or earlier == cycle_id:
        return
    with contextlib.suppress(NotFound):
        previous = ctx.tables.cycles.get(patient_id, earlier)
        if previous.status.is_open:
            end_cycle(ctx, previous, CycleStatus.UNANSWERED, f"no booking: the cycle of {cycle_id} took over")


def _has_upcoming(patient: Patient, now: datetime) -> bool:
    """The profile carries the next appointment (booking keeps it), so the check costs no extra read."""
    return patient.next_appointment_at is not None and patient.next_appointment_at > now


def _prepared(cycle: RecallCycle, reason: str) -> PrepareRecallResult:
    return PrepareRecallResult(
        patient_id=cycle.patient_id,
        cycle_id=cycle.cycle_id,
        proceed=cycle.status.is_open,
        reason=reason,
        days_since_last_visit=cycle.days_since_last_visit,
        suggested_visit_date=cycle.suggested_visit_date,
        next_contact_at=clock.to_aws_timestamp(cycle.next_contact_at),
    )


def create_recall_tasks(request: RecallRef, ctx: TenantContext) -> RecallTasksResult:
    """R4 a high-priority recall task for the front desk; R8 a chart review for the hygienist."""
    cycle = ctx.tables.cycles.get(request.patient_id, request.cycle_id)
    now = clock.now()
    visit_at = datetime.combine(cycle.suggested_visit_date or cycle.recall_due_date, datetime.min.time(), tzinfo=now.tzinfo)
    tasks = [
        _cycle_task(cycle, TaskKind.RECALL, Role.FRONT_DESK, TaskPriority.HIGH, now + timedelta(days=1), now,
                    f"Recall due {cycle.recall_due_date}: book patient {cycle.patient_id}"),
        _cycle_task(cycle, TaskKind.CHART_REVIEW, Role.HYGIENIST, TaskPriority.NORMAL,
                    max(now, visit_at - timedelta(days=1)), now,
                    f"Review chart of patient {cycle.patient_id} before the recall visit"),
    ]
    for task in tasks:
        ctx.tables.tasks.create(task)
    return RecallTasksResult(task_ids=[t.task_id for t in tasks])


def verify_insurance(request: RecallRef, ctx: TenantContext) -> VerifyInsuranceResult:
    """R9: coverage for the recall visit, per recall type due (X2), from the tenant's eligibility provider."""
    cycle = ctx.tables.cycles.get(request.patient_id, request.cycle_id)
    patient = ctx.tables.patients.get(request.patient_id)
    result = ctx.eligibility.verify(
        patient, most_recent_policy(patient.insurance), cycle.suggested_visit_date or cycle.recall_due_date,
        cycle.recall_types)
    ctx.tables.cycles.record_eligibility(cycle, result)
    return VerifyInsuranceResult(coverage=result.status.value, source=result.source)


def contact_patient(request: RecallRef, ctx: TenantContext) -> ContactResult:
    """One rung of the ladder (R5, R6, R15, R16, R24, R27). Before every contact: stop if the patient
    booked, declined or opted out; wait for the send window; skip a channel without consent or address.
    Returns when the caller must wait (for the next rung or the send window) or the cycle is over."""
    ladder = ctx.config.contact_ladder
    for _ in range(len(ladder) + 2):
        cycle = ctx.tables.cycles.get(request.patient_id, request.cycle_id)
        patient = ctx.tables.patients.get(request.patient_id)
        clinic = ctx.config.clinic(cycle.clinic_id)
        now = clock.now()
        action = next_ladder_action(
            cycle=cycle,
            patient=patient,
            ladder=ladder,
            clinic=clinic,
            now=now,
            has_upcoming_appointment=_has_upcoming(patient, now),
        )
        if isinstance(action, StopCycle):
            end_cycle(ctx, cycle, action.status, action.reason)
            return ContactResult(cycle_id=cycle.cycle_id, outcome="stopped", next_contact_at=clock.to_aws_timestamp(now),
                                 detail=f"{action.status.value}: {action.reason}")
        if isinstance(action, LadderFinished):
            resurface_later(ctx, cycle, now)
            return ContactResult(cycle_id=cycle.cycle_id, outcome="finished", next_contact_at=clock.to_aws_timestamp(now),
                                 detail=f"ladder finished in {cycle.status.value}")
        if isinstance(action, WaitUntil):
            return ContactResult(cycle_id=cycle.cycle_id, outcome="wait", next_contact_at=clock.to_aws_timestamp(action.at),
                                 detail=f"waiting for {action.why}")
        if isinstance(action, SkipStep):
            _record_once(ctx, cycle, action.step, action.outcome, now)
            _advance(ctx, cycle, now, contacted=False, channel=action.step.channel)
            continue
        assert isinstance(action, ContactNow)
        outcome = _contact(ctx, cycle, patient, action.step, now)
        _advance(ctx, cycle, now, contacted=outcome in (AttemptOutcome.SENT, AttemptOutcome.TASK_CREATED,
                                                         AttemptOutcome.UNCONFIRMED), channel=action.step.channel)
        last_rung = cycle.step_index + 1 >= len(ladder)
        if last_rung:
            resurface_later(ctx, cycle, now)
        next_at = next_contact_after(ladder, cycle.step_index + 1, now, now, clinic)
        if not last_rung and next_at <= now:
            continue  # the next rung is due at once (a staff task right after manual review): same invocation
        return ContactResult(
            cycle_id=cycle.cycle_id,
            outcome="finished" if last_rung else "wait",
            next_contact_at=clock.to_aws_timestamp(next_at),
            step=action.step.step,
            channel=action.step.channel,
            detail=outcome.value,
        )
    raise RuntimeError("ladder did not settle")  # a bug, not a patient's state


def resurface_later(ctx: TenantContext, cycle: RecallCycle, now: datetime) -> None:
    """X3: a ladder that reached no booking opens again after `recall.resurface_after_days`; past
    `recall.max_cycles_per_year` cycles in 365 days the patient is handed to reactivation (Inactive)."""
    settings = ctx.config.recall
    today = now.astimezone(ZoneInfo(ctx.config.clinic(cycle.clinic_id).time_zone)).date()
    recent = sum(1 for c in ctx.tables.cycles.for_patient(cycle.patient_id)
                 if c.opened_at.date() > today - timedelta(days=365))
    resume = today + timedelta(days=settings.resurface_after_days)

    def change(patient: Patient) -> Patient:
        if patient.recall_cycle_id != cycle.cycle_id or patient.next_appointment_at is not None:
            return patient  # a newer cycle, or a booking, took over
        if recent >= settings.max_cycles_per_year:
            return patient.model_copy(update={"status": PatientStatus.INACTIVE})
        if patient.recall_from is not None and patient.recall_from >= resume:
            return patient
        return patient.model_copy(update={"recall_from": resume})

    change_patient(ctx, cycle.patient_id, change)


def _advance(ctx: TenantContext, cycle: RecallCycle, now: datetime, *, contacted: bool, channel: Channel) -> None:
    next_index = cycle.step_index + 1
    last_contact = now if contacted else cycle.last_contact_at
    clinic = ctx.config.clinic(cycle.clinic_id)
    with contextlib.suppress(Conflict):  # another try advanced it, or the patient booked: the next read sees which
        ctx.tables.cycles.record_progress(
            cycle,
            step_index=next_index,
            next_contact_at=next_contact_after(ctx.config.contact_ladder, next_index, now, last_contact, clinic),
            status=status_after_contact(channel) if contacted else None,
            contacted_at=now if contacted else None,
            channel=channel.value,
        )


def _record_once(ctx: TenantContext, cycle: RecallCycle, step: LadderStep, outcome: AttemptOutcome, now: datetime) -> None:
    attempt = CommunicationAttempt(patient_id=cycle.patient_id, cycle_id=cycle.cycle_id, step=step.step,
                                   channel=step.channel, outcome=outcome, at=now)
    ctx.tables.attempts.claim(attempt)


def _contact(ctx: TenantContext, cycle: RecallCycle, patient: Patient, step: LadderStep, now: datetime) -> AttemptOutcome:
    """This rung's message or task, once (services/delivery.py)."""
    claim = CommunicationAttempt(patient_id=cycle.patient_id, cycle_id=cycle.cycle_id, step=step.step,
                                 channel=step.channel, outcome=AttemptOutcome.SENDING, at=now,
                                 language=patient.language if step.channel.reaches_patient else None)
    done = deliver_once(ctx, patient, claim, lambda owned: _deliver(ctx, cycle, patient, step, owned, now),
                        repeatable=not step.channel.reaches_patient)  # a staff task's id makes it once
    return done.outcome


def _deliver(ctx: TenantContext, cycle: RecallCycle, patient: Patient, step: LadderStep,
             claim: CommunicationAttempt, now: datetime) -> CommunicationAttempt:
    config = ctx.config
    if step.channel in (Channel.SMS, Channel.EMAIL):
        context = _message_context(ctx, cycle, patient, sms=step.channel == Channel.SMS)
        context["booking_url"] = booking_url(ctx, cycle, sms=step.channel == Channel.SMS)  # X11
        context["link_days"] = config.self_scheduling.link_days
        if step.channel == Channel.SMS:
            text = render_sms(patient.language, "recall_sms.txt", config.sms_gsm_folding, **context)
            segments = sms_segments(text)
            assert patient.phone is not None
            message_id = ctx.notifier.send_sms(SmsMessage(patient.phone, text, config.sms_sender_id))
            return claim.model_copy(update={"outcome": AttemptOutcome.SENT, "message_id": message_id,
                                            "sms_segments": segments.segments, "sms_encoding": segments.encoding})
        assert patient.email is not None
        context["unsubscribe_url"] = unsubscribe_url(ctx, patient.patient_id, MessageKind.RECALL)
        message_id = ctx.notifier.send_email(EmailMessage(
            to=patient.email,
            sender=config.sender_email,
            subject=render(patient.language, "recall_email_subject.txt", **context),
            text=render(patient.language, "recall_email.txt", **context),
            html=render(patient.language, "recall_email.html", **context),
            unsubscribe_url=context["unsubscribe_url"],
        ))
        return claim.model_copy(update={"outcome": AttemptOutcome.SENT, "message_id": message_id})
    kind, role, priority, title = {
        Channel.CALL_TASK: (TaskKind.RECALL_CALL, Role.FRONT_DESK, TaskPriority.HIGH,
                            f"Call patient {cycle.patient_id}: recall due {cycle.recall_due_date}, no booking yet"),
        Channel.MANUAL_REVIEW: (TaskKind.MANUAL_REVIEW, Role.FRONT_DESK, TaskPriority.NORMAL,
                                f"Manual review: patient {cycle.patient_id} not reached by the recall ladder"),
        Channel.ADMIN_TASK: (TaskKind.ADMIN_FOLLOW_UP, Role.OFFICE_ADMIN, TaskPriority.NORMAL,
                             f"Follow up non-responding patient {cycle.patient_id} (recall {cycle.recall_due_date})"),
    }[step.channel]
    task = _cycle_task(cycle, kind, role, priority, now, now, title).model_copy(
        update={"retention_score": patient.retention_score})  # R25: the queue calls the likelier first
    ctx.tables.tasks.create(task)
    return claim.model_copy(update={"outcome": AttemptOutcome.TASK_CREATED, "task_id": task.task_id})


SMS_LABELS = 1
"""Recall types an SMS names; the others are counted ('and 1 more'): the email names them all."""


AND_MORE = {"en": "and {n} more", "es": "y {n} más", "bg": "и др.", "ru": "и др."}
"""Cyrillic SMS hold 70 characters a segment: 'and others' there ('и др.'), the count in en/es."""


def sms_recall_label(labels: list[str], language: str = "en") -> str:
    """'check-up and cleaning and 1 more': the email names them all."""
    shown = " + ".join(labels[:SMS_LABELS])
    more = len(labels) - SMS_LABELS
    return f"{shown} {AND_MORE[language].format(n=more)}" if more > 0 else shown


def _message_context(ctx: TenantContext, cycle: RecallCycle, patient: Patient, sms: bool = False) -> dict:
    clinic = ctx.config.clinic(cycle.clinic_id)
    today = clock.now().astimezone(ZoneInfo(clinic.time_zone)).date()
    # In the tenant's order (its main recall first): an SMS that names one type names the check-up.
    labels = [rt.labels.get(patient.language) or rt.labels[ctx.config.default_language]
              for rt in ctx.config.recall_types if rt.recall_type in cycle.recall_types]
    return {
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "clinic_name": clinic.name_in_sms if sms else clinic.name,
        "clinic_phone": clinic.phone,
        "clinic_address": clinic.address,
        "due_for": (sms_recall_label(labels, patient.language) if sms else " + ".join(labels)) if labels else "check-up",
        "due_date": cycle.recall_due_date,
        "overdue": cycle.recall_due_date < today,
        "rebook": cycle.rebook,
        # R10 as of the day the message goes: a date suggested when the cycle opened may have passed since.
        "suggested_date": suggested_visit_day(ctx, cycle.clinic_id, cycle.recall_types, cycle.recall_due_date),
    }


def _cycle_task(cycle: RecallCycle, kind: TaskKind, role: Role, priority: TaskPriority, due_at: datetime,
                now: datetime, title: str) -> StaffTask:
    return StaffTask(
        task_id=recall_task_id(kind.value, cycle.patient_id, cycle.cycle_id),
        kind=kind, role=role, clinic_id=cycle.clinic_id, priority=priority, title=title,
        due_at=due_at, created_at=now, patient_id=cycle.patient_id, cycle_id=cycle.cycle_id,
    )


def end_cycle(ctx: TenantContext, cycle: RecallCycle, status: CycleStatus, reason: str) -> bool:
    """Closes the cycle and cancels its open front-desk work (R23: nothing temporary outlives the cycle)."""
    now = clock.now()
    closed = ctx.tables.cycles.close(cycle, status, reason, now)
    if closed:  # the report's week: booked, declined... counted once, on the clinic's day
        day = now.astimezone(ZoneInfo(ctx.config.clinic(cycle.clinic_id).time_zone)).date()
        ctx.tables.daily_counts.add(cycle.clinic_id, day, status.value.lower())
        if status in CYCLE_OUTCOMES:  # R25: the way this cycle ended counts in the patient's score
            change_patient(ctx, cycle.patient_id, lambda patient: with_score(ctx, patient))
    for kind in CYCLE_TASK_KINDS:
        if kind == TaskKind.CHART_REVIEW and status == CycleStatus.BOOKED:
            continue
        ctx.tables.tasks.close(recall_task_id(kind.value, cycle.patient_id, cycle.cycle_id), TaskStatus.CANCELLED, now,
                               reason=f"cycle {status.value}")
    return closed
