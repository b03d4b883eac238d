"""The staff console's reads and writes (issue 15): who the signed-in staff member is, their role's work queue,
the clinic's recall list, a patient's timeline (written to the audit log), the audit log itself. Every function
takes the staff member and refuses what their role or clinic does not see (domain/staff_access.py)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from revisit import clock
from revisit.domain.leads import CallOutcome as LeadOutcome
from revisit.domain.naming import recall_task_id
from revisit.domain.staff_access import View, may, sees_clinic
from revisit.errors import Conflict, InvalidRequest, NotAllowed, NotFound
from revisit.models.common import Role
from revisit.models.entities import (
    Appointment,
    AppointmentStatus,
    CallResult,
    CommunicationAttempt,
    CycleStatus,
    IntakeRecord,
    Lead,
    Patient,
    RecallCycle,
    RecordView,
    StaffTask,
    TaskKind,
    TaskStatus,
    TreatmentPlan,
    Visit,
)
from revisit.models.tenant import StaffMember
from revisit.services import booking, intake, patient_actions, reactivation, referral, visit
from revisit.services.appointment_notices import execution_name as notices_execution_name
from revisit.services.context import TenantContext


def staff_member(ctx: TenantContext, username: str | None, groups: list[str]) -> StaffMember:
    """The tenant file's staff member a sign-in is for: the user pool's user name is the staff id, and the
    user's group must be the role the tenant file gives them (a user moved to another role is refused until
    both agree)."""
    member = next((m for m in ctx.config.staff if m.staff_id == username), None)
    if member is None or member.role.value not in groups:
        raise NotAllowed("no staff member of this tenant with that role")
    return member


def require(member: StaffMember, view: View, clinic_id: str | None = None) -> None:
    if not may(member.role, view):
        raise NotAllowed(f"a {member.role.value} does not see {view.value}")
    if clinic_id is not None and not sees_clinic(member.clinic_id, clinic_id):
        raise NotAllowed(f"{member.staff_id} works at {member.clinic_id}, not {clinic_id}")


def _known(ctx: TenantContext, clinic_id: str) -> None:
    if clinic_id not in {c.clinic_id for c in ctx.config.clinics}:
        raise NotFound("clinic", clinic_id)


def clinics_of(ctx: TenantContext, member: StaffMember) -> list[str]:
    return [c.clinic_id for c in ctx.config.clinics if sees_clinic(member.clinic_id, c.clinic_id)]


def queue(ctx: TenantContext, member: StaffMember, clinic_id: str) -> list[StaffTask]:
    """The role's open tasks at the clinic, the day's first; within a day the likeliest to book first (R25)."""
    _known(ctx, clinic_id)
    require(member, View.QUEUE, clinic_id)
    zone = ZoneInfo(ctx.config.clinic(clinic_id).time_zone)
    tasks = [t for t in ctx.tables.tasks.open_queue(clinic_id, member.role.value, 200)
             if t.assignee in (None, member.staff_id)]
    return sorted(tasks, key=lambda t: (t.due_at.astimezone(zone).date(),
                                        -(t.retention_score if t.retention_score is not None else 50), t.due_at))


CALL_KINDS = frozenset({TaskKind.RECALL, TaskKind.RECALL_CALL, TaskKind.MANUAL_REVIEW, TaskKind.ADMIN_FOLLOW_UP,
                        TaskKind.REACTIVATION_CALL})
"""Closed with a call's outcome (booked, declined with a reason, no answer...): the recall follows it."""
LEAD_KINDS = frozenset({TaskKind.ASSIGN_LEAD, TaskKind.REFERRAL_CALL})
DONE_KINDS = frozenset({TaskKind.CHART_REVIEW, TaskKind.LEAD_DENTIST_REVIEW, TaskKind.PATIENT_REPLY,
                        TaskKind.DELIVERY_CHECK, TaskKind.VISIT_INSTRUCTIONS, TaskKind.APPOINTMENT_DECLINED,
                        *intake.DONE_KINDS})
"""Closed as done: a review, an answer, a check. Referral tasks (assign, call) close with the lead's own
actions (`assign_lead`, `lead_call`), which move the lead."""


def task_for(ctx: TenantContext, member: StaffMember, task_id: str, *, kinds: frozenset[TaskKind] | None = None
             ) -> StaffTask:
    """An open task the staff member may act on: their role's, at their clinic (not found otherwise); a task
    closed already, or of another kind than the action is for, is a conflict (nothing runs twice)."""
    task = ctx.tables.tasks.get(task_id)
    if task.role != member.role or not sees_clinic(member.clinic_id, task.clinic_id) \
            or task.assignee not in (None, member.staff_id):
        raise NotFound("task", task_id)
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"task {task_id} is {task.status.value} already")
    if kinds is not None and task.kind not in kinds:
        raise Conflict(f"a {task.kind.value} task is not closed this way")
    return task


def record_call(ctx: TenantContext, member: StaffMember, task_id: str, result: CallResult, reason: str | None) -> None:
    task_for(ctx, member, task_id, kinds=CALL_KINDS)
    if result != CallResult.DECLINED:
        reason = None  # a reason belongs to a refusal only
    patient_actions.record_call_outcome(ctx, task_id, result, reason, member.staff_id)


def complete(ctx: TenantContext, member: StaffMember, task_id: str) -> StaffTask:
    task = task_for(ctx, member, task_id, kinds=DONE_KINDS)
    if task.kind in intake.DONE_KINDS:
        return intake.complete_task(ctx, task_id, member.staff_id)
    ctx.tables.tasks.close(task_id, TaskStatus.DONE, clock.now(), reason=f"done by {member.staff_id}")
    return ctx.tables.tasks.get(task_id)


@dataclass(frozen=True)
class RecallFilters:
    recall_type: str | None = None
    status: CycleStatus | None = None
    rung: int | None = None
    min_days_overdue: int | None = None


@dataclass(frozen=True)
class RecallRow:
    patient_id: str
    patient_name: str
    recall_due_date: date
    days_overdue: int
    recall_types: list[str]
    status: str
    rung: int
    last_channel: str | None
    last_contact_at: str | None
    next_contact_at: str | None


def recall_list(ctx: TenantContext, member: StaffMember, clinic_id: str, filters: RecallFilters) -> list[RecallRow]:
    """The clinic's open recall cycles (the open-cycle index: no scan), most overdue first."""
    _known(ctx, clinic_id)
    require(member, View.RECALLS, clinic_id)
    today = clock.now().astimezone(ZoneInfo(ctx.config.clinic(clinic_id).time_zone)).date()
    rows = [_row(cycle, today) for cycle in ctx.tables.cycles.open_cycles(clinic_id)
            if (filters.recall_type is None or filters.recall_type in cycle.recall_types)
            and (filters.status is None or cycle.status == filters.status)
            and (filters.rung is None or cycle.step_index == filters.rung)
            and (filters.min_days_overdue is None or (today - cycle.recall_due_date).days >= filters.min_days_overdue)]
    return sorted(rows, key=lambda r: (-r.days_overdue, r.patient_id))


def _row(cycle: RecallCycle, today: date) -> RecallRow:
    return RecallRow(cycle.patient_id, cycle.patient_name, cycle.recall_due_date, (today - cycle.recall_due_date).days,
                     cycle.recall_types, cycle.status.value, cycle.step_index,
                     cycle.last_channel.value if cycle.last_channel else None,
                     cycle.last_contact_at.isoformat() if cycle.last_contact_at else None,
                     cycle.next_contact_at.isoformat() if cycle.next_contact_at else None)


def recall_csv(rows: list[RecallRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["patient_id", "patient_name", "recall_due_date", "days_overdue", "recall_types", "status",
                     "rung", "last_channel", "last_contact_at", "next_contact_at"])
    for r in rows:
        writer.writerow([r.patient_id, _safe(r.patient_name), r.recall_due_date.isoformat(), r.days_overdue,
                         " ".join(r.recall_types), r.status, r.rung, r.last_channel or "", r.last_contact_at or "",
                         r.next_contact_at or ""])
    return out.getvalue()


def _safe(text: str) -> str:
    """A cell a spreadsheet would run as a formula starts with a quote instead (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


@dataclass(frozen=True)
class Execution:
    workflow: str
    name: str


@dataclass(frozen=True)
class Timeline:
    patient: Patient
    appointments: list[Appointment]
    contacts: list[CommunicationAttempt]
    cycles: list[RecallCycle]
    executions: list[Execution]
    clinical: bool
    """Whether this staff member sees the clinical record (visits and plans are empty otherwise)."""
    tasks: list[StaffTask] = field(default_factory=list)
    """The recall's staff tasks and what came of them (a call's result and reason, who closed it, when)."""
    visits: list[Visit] = field(default_factory=list)
    plans: list[TreatmentPlan] = field(default_factory=list)


def timeline(ctx: TenantContext, member: StaffMember, patient_id: str) -> Timeline:
    """Everything the clinic has done with a patient, newest first; each view is written to the audit log."""
    require(member, View.TIMELINE)
    patient = ctx.tables.patients.get(patient_id)
    if not sees_clinic(member.clinic_id, patient.clinic_id):
        raise NotFound("patient", patient_id)
    clinical = may(member.role, View.CLINICAL)
    ctx.tables.audit.record(RecordView(staff_id=member.staff_id, role=member.role.value, patient_id=patient_id,
                                       at=clock.now(), part="clinical" if clinical else "timeline"))
    appointments = sorted(ctx.tables.appointments.for_patient(patient_id), key=lambda a: a.starts_at, reverse=True)
    cycles = sorted(ctx.tables.cycles.for_patient(patient_id), key=lambda c: c.opened_at, reverse=True)
    executions = _executions(ctx, patient_id, cycles, appointments)
    tasks = []
    for cycle in cycles:  # the recall's tasks have ids made of kind, patient and cycle (domain/naming.py)
        for kind in (TaskKind.RECALL, TaskKind.CHART_REVIEW, TaskKind.RECALL_CALL, TaskKind.MANUAL_REVIEW,
                     TaskKind.ADMIN_FOLLOW_UP):
            try:
                tasks.append(ctx.tables.tasks.get(recall_task_id(kind.value, patient_id, cycle.cycle_id)))
            except NotFound:
                continue
    return Timeline(
        patient, appointments, sorted(ctx.tables.attempts.for_patient(patient_id), key=lambda a: a.at, reverse=True),
        cycles, executions, clinical, sorted(tasks, key=lambda t: t.created_at, reverse=True),
        visits=ctx.tables.visits.visits_for(patient_id) if clinical else [],
        plans=ctx.tables.visits.plans_for(patient_id) if clinical else [])


FOLLOW_UP_PURPOSE = {AppointmentStatus.CANCELLED: "cancelled", AppointmentStatus.NO_SHOW: "missed"}


def _executions(ctx: TenantContext, patient_id: str, cycles: list[RecallCycle],
                appointments: list[Appointment]) -> list[Execution]:
    """The patient's executions by their deterministic names: each recall cycle; each appointment's notices
    (and the follow-up a cancel or no-show sent); each completed visit's close-out; each doctor's order; a new
    patient's intake; each reactivation campaign's chain for them."""
    found = [Execution("recall", c.execution_name) for c in cycles]
    for appointment in appointments:
        found.append(Execution("appointment", notices_execution_name(appointment)))
        if appointment.status in FOLLOW_UP_PURPOSE:
            found.append(Execution("appointment", notices_execution_name(appointment, FOLLOW_UP_PURPOSE[appointment.status])))
        if appointment.status == AppointmentStatus.COMPLETED:
            found.append(Execution("visit", visit.execution_name(appointment.appointment_id)))
    found += [Execution("referral", referral.execution_name(lead.lead_id)) for lead in ctx.tables.leads.for_patient(patient_id)]
    if appointments:  # a new patient's intake, listed under the clinic and (local) day of their first booking
        first = min(appointments, key=lambda a: a.created_at)
        day = first.created_at.astimezone(ZoneInfo(ctx.config.clinic(first.clinic_id).time_zone)).date()
        try:
            ctx.tables.visits.intake(first.clinic_id, day, patient_id)
            found.append(Execution("intake", intake.execution_name(patient_id)))
        except NotFound:
            pass
    for campaign in ctx.tables.campaigns.all():  # each reactivation campaign the patient was part of
        try:
            ctx.tables.campaigns.member(campaign.campaign_id, patient_id)
        except NotFound:
            continue
        found.append(Execution(reactivation.PATIENT_MACHINE, reactivation.execution_name(campaign.campaign_id, patient_id)))
    return found


def audit_day(ctx: TenantContext, member: StaffMember, day: date) -> list[RecordView]:
    require(member, View.AUDIT)
    views = ctx.tables.audit.on(day)
    if member.clinic_id is None:
        return views
    clinic_patients = {v.patient_id for v in views if ctx.tables.patients.get(v.patient_id).clinic_id == member.clinic_id}
    return [v for v in views if v.patient_id in clinic_patients]


def task_slots(ctx: TenantContext, member: StaffMember, task_id: str, days: int = 14) -> tuple[str, list]:
    """A recall call's 'booked': the free times of the patient's clinic for the visit due, from now on."""
    task = task_for(ctx, member, task_id, kinds=CALL_KINDS)
    kind = _visit_for(ctx, task)
    zone = ZoneInfo(ctx.config.clinic(task.clinic_id).time_zone)
    today = clock.now().astimezone(zone).date()
    found = booking.availability(ctx, task.clinic_id, kind, today, today + timedelta(days=days - 1))
    return kind, [s for s in found.slots if s.starts_at > clock.now()]


def book_for_task(ctx: TenantContext, member: StaffMember, task_id: str, provider_id: str, starts_at) -> Appointment:
    """Books the chosen time for the task's patient (the booking service's checks and slot locks; the task id
    as idempotency key, so a double click books once) and records the call as booked by this staff member."""
    task = task_for(ctx, member, task_id, kinds=CALL_KINDS)
    if task.patient_id is None:
        raise NotFound("task patient", task_id)
    booked = booking.book(ctx, booking.BookingRequest(task.patient_id, task.clinic_id, _visit_for(ctx, task),
                                                      provider_id, starts_at), member.staff_id,
                          idempotency_key=f"task-{task_id}")
    patient_actions.record_call_outcome(ctx, task_id, CallResult.BOOKED, None, member.staff_id)
    return booked.appointment


def _visit_for(ctx: TenantContext, task: StaffTask) -> str:
    due: list[str] = []
    if task.patient_id and task.cycle_id:
        try:
            due = ctx.tables.cycles.get(task.patient_id, task.cycle_id).recall_types
        except NotFound:
            due = []
    kind = ctx.config.recall_visit_type(due) if due else None
    return (kind or ctx.config.appointment_types[0]).appointment_type


@dataclass(frozen=True)
class ProviderDay:
    provider_id: str
    name: str
    appointments: list[Appointment]


def schedule(ctx: TenantContext, member: StaffMember, clinic_id: str, day: date) -> list[ProviderDay]:
    """The clinic's local day per provider (the schedule index: one query per provider), booked and cancelled
    appointments by time, each with its confirmation status (X7)."""
    _known(ctx, clinic_id)
    require(member, View.SCHEDULE, clinic_id)
    zone = ZoneInfo(ctx.config.clinic(clinic_id).time_zone)
    first = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    providers = [p for p in ctx.config.providers if p.clinic_id == clinic_id]
    found = ctx.tables.appointments.on_day([p.provider_id for p in providers], first, first + timedelta(days=1))
    return [ProviderDay(p.provider_id, p.name, sorted((a for a in found if a.provider_id == p.provider_id),
                                                      key=lambda a: a.starts_at)) for p in providers]


def appointment_for(ctx: TenantContext, member: StaffMember, patient_id: str, appointment_id: str) -> Appointment:
    """An appointment the staff member may change: at a clinic they see, by a role that sees the schedule."""
    require(member, View.SCHEDULE)
    appointment = ctx.tables.appointments.get(patient_id, appointment_id)
    if not sees_clinic(member.clinic_id, appointment.clinic_id):
        raise NotFound("appointment", appointment_id)
    return appointment


REPORT_KINDS = ("recall-daily", "intake-daily", "referral-monthly", "management-monthly")


def report_keys(ctx: TenantContext, member: StaffMember) -> dict[str, list[str]]:
    """The HTML reports per kind, newest first (each also exists as CSV or JSON beside it)."""
    require(member, View.REPORTS)
    return {kind: sorted((k for k in ctx.reports.keys(f"reports/{kind}/") if k.endswith(".html")), reverse=True)[:60]
            for kind in REPORT_KINDS}


def report(ctx: TenantContext, member: StaffMember, key: str) -> tuple[bytes, str]:
    require(member, View.REPORTS)
    if not any(key.startswith(f"reports/{kind}/") for kind in REPORT_KINDS) or ".." in key:
        raise NotFound("report", key)
    found = ctx.reports.get(key)
    if found is None:
        raise NotFound("report", key)
    return found


ASSIGNERS = frozenset({Role.SENIOR_REGISTRAR, Role.OFFICE_ADMIN, Role.ADMINISTRATOR})
CALLERS = frozenset({Role.REGISTRAR, Role.SENIOR_REGISTRAR})


def lead_for(ctx: TenantContext, member: StaffMember, lead_id: str, roles: frozenset[Role]) -> Lead:
    """A doctor's order the staff member works on (F4, F6): at a clinic they see, by a role that does it."""
    lead = ctx.tables.leads.get(lead_id)
    if not sees_clinic(member.clinic_id, lead.clinic_id):
        raise NotFound("lead", lead_id)
    if member.role not in roles:
        raise NotAllowed(f"a {member.role.value} does not do that with a lead")
    return lead


def registrars_for(ctx: TenantContext, clinic_id: str) -> list[StaffMember]:
    return [m for m in ctx.config.staff if m.role == Role.REGISTRAR and m.clinic_id in (None, clinic_id)]


def assign_lead(ctx: TenantContext, member: StaffMember, lead_id: str, registrar_id: str) -> Lead:
    lead_for(ctx, member, lead_id, ASSIGNERS)
    return referral.assign(ctx, lead_id, registrar_id, member.staff_id)


def lead_slots(ctx: TenantContext, member: StaffMember, lead_id: str, days: int = 14) -> tuple[str, list]:
    """The free times for the ordered procedure's visit, up to its due date's fortnight."""
    lead = lead_for(ctx, member, lead_id, CALLERS)
    zone = ZoneInfo(ctx.config.clinic(lead.clinic_id).time_zone)
    today = clock.now().astimezone(zone).date()
    found = booking.availability(ctx, lead.clinic_id, lead.appointment_type, today, today + timedelta(days=days - 1))
    return lead.appointment_type, [s for s in found.slots if s.starts_at > clock.now()]


def lead_call(ctx: TenantContext, member: StaffMember, lead_id: str, outcome: str, *, refusal_reason: str | None,
              wants_contact_later: bool, provider_id: str | None, starts_at) -> Lead:
    """F6 from the call script: booked (the visit booked now, by this registrar), refused (a reason), no answer."""
    lead = lead_for(ctx, member, lead_id, CALLERS)
    appointment_id = None
    if outcome == LeadOutcome.BOOKED:
        if not provider_id or starts_at is None:
            raise InvalidRequest("starts_at", "a booked call names the time it booked")
        appointment_id = booking.book(ctx, booking.BookingRequest(lead.patient_id, lead.clinic_id, lead.appointment_type,
                                                                  provider_id, starts_at), member.staff_id,
                                      idempotency_key=f"lead-{lead_id}").appointment.appointment_id
    return referral.record_call(ctx, lead_id, outcome=LeadOutcome(outcome), by=member.staff_id,
                                refusal_reason=refusal_reason if outcome == LeadOutcome.REFUSED else None,
                                appointment_id=appointment_id, wants_contact_later=wants_contact_later)


def new_patients(ctx: TenantContext, member: StaffMember, clinic_id: str, day: date) -> list[IntakeRecord]:
    """I15: the clinic's new patients of a day (by their first booking) and what their onboarding still needs."""
    _known(ctx, clinic_id)
    require(member, View.INTAKE, clinic_id)
    return ctx.tables.visits.intakes_on(clinic_id, day)


def campaigns(ctx: TenantContext, member: StaffMember) -> list[dict]:
    """A8: every reactivation campaign with its results (goal against recovered, responses by link...)."""
    require(member, View.CAMPAIGNS)
    return [reactivation.results(ctx, c.campaign_id) for c in ctx.tables.campaigns.all()]


def book_visit(ctx: TenantContext, member: StaffMember, request: booking.BookingRequest, key: str | None) -> Appointment:
    """From the schedule: a visit for a patient of the clinic, booked by this staff member through the booking
    service (its checks and slot locks; `key` makes a double click book once)."""
    _known(ctx, request.clinic_id)
    require(member, View.SCHEDULE, request.clinic_id)
    return booking.book(ctx, request, member.staff_id, idempotency_key=key).appointment
