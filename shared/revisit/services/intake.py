"""Intake (I1-I8, I16): a new patient's first booking, from the booking API's AppointmentBooked event.

The event reaches `start_intake` through its queue; a patient with no earlier visit gets one intake
execution, named by the patient (Step Functions refuses a second of that name, however often the event
comes). The execution checks the core data (I1), gives the front office its onboarding checklist (I2),
sets the profile status (I3), reads the appointment and its services (I4, I5), gives the hygienist the
pre-visit task (I6) and verifies the coverage for billing (I16). The confirmation email and the 24-hour SMS
reminder (I7, I8) are the appointment's notices, started by the booking: intake sends no second copy.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from revisit import clock
from revisit.domain.insurance import most_recent_policy
from revisit.domain.intake import ONBOARDING_ITEMS, missing_core_data, status_move_error
from revisit.domain.naming import pre_visit_task_id
from revisit.errors import InvalidRequest
from revisit.models.common import Role
from revisit.models.entities import (
    AppointmentStatus,
    CoverageStatus,
    IntakeRecord,
    Patient,
    PatientStatus,
    StaffTask,
    StatusChange,
    TaskKind,
    TaskPriority,
    TaskStatus,
)
from revisit.models.steps.intake import CoverageRequest, CoverageResult, IntakeRef, IntakeResult
from revisit.services.appointment_notices import execution_name as notices_execution_name
from revisit.services.context import TenantContext
from revisit.services.patients import change_patient
from revisit.topology import INTAKE

STATUS_HISTORY_KEPT = 20


def execution_name(patient_id: str) -> str:
    return f"intake-{patient_id}"


def is_first_visit(ctx: TenantContext, patient_id: str, appointment_id: str) -> bool:
    """No visit before: no last visit on the record and no other appointment that happened."""
    patient = ctx.tables.patients.get(patient_id)
    if patient.last_visit is not None:
        return False
    return not any(a.status == AppointmentStatus.COMPLETED or (a.appointment_id != appointment_id and
                                                               a.status == AppointmentStatus.NO_SHOW)
                   for a in ctx.tables.appointments.for_patient(patient_id))


def start_for_booking(ctx: TenantContext, detail: dict) -> bool:
    """An AppointmentBooked event: True if it started the patient's intake (False: not new, or started before)."""
    patient_id, appointment_id = detail["patient_id"], detail["appointment_id"]
    if ctx.workflows is None or not is_first_visit(ctx, patient_id, appointment_id):
        return False
    return ctx.workflows.start(INTAKE.name, execution_name(patient_id),
                               {"patient_id": patient_id, "appointment_id": appointment_id})


def moved_status(patient: Patient, target: PatientStatus, reason: str) -> Patient:
    """I3: the status moved along an allowed transition, with its history (unchanged if it is there already
    or the move is not allowed: an inactive patient is made active by a visit, not by intake)."""
    if patient.status == target or status_move_error(patient.status, target):
        return patient
    change = StatusChange(at=clock.now(), before=patient.status, after=target, reason=reason)
    return patient.model_copy(update={"status": target,
                                      "status_history": [*patient.status_history, change][-STATUS_HISTORY_KEPT:]})


def _at_clinic(ctx: TenantContext, clinic_id: str, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(ctx.config.clinic(clinic_id).time_zone))


def onboard_patient(request: IntakeRef, ctx: TenantContext) -> IntakeResult:
    patient = ctx.tables.patients.get(request.patient_id)
    appointment = ctx.tables.appointments.get(request.patient_id, request.appointment_id)  # I4, I5
    clinic = ctx.config.clinic(appointment.clinic_id)
    booked_day = _at_clinic(ctx, clinic.clinic_id, appointment.created_at).date()
    missing = missing_core_data(patient, clock.now().astimezone(ZoneInfo(clinic.time_zone)).date())  # I1
    onboarding_id = f"onboarding-{patient.patient_id}"
    checklist = ", ".join([*ONBOARDING_ITEMS, *(f"missing {field}" for field in missing)])
    ctx.tables.tasks.create(StaffTask(  # I2: the checklist names fields, never their values
        task_id=onboarding_id, kind=TaskKind.ONBOARDING, role=Role.OFFICE_ADMIN, clinic_id=clinic.clinic_id,
        priority=TaskPriority.HIGH if missing else TaskPriority.NORMAL, patient_id=patient.patient_id,
        title=f"Onboard new patient {patient.patient_id} before {appointment.starts_at:%Y-%m-%d}: {checklist}",
        due_at=appointment.starts_at, created_at=clock.now()))
    pre_visit_id = None
    kind = ctx.config.appointment_type(appointment.appointment_type)
    pre_visit_day = (_at_clinic(ctx, clinic.clinic_id, appointment.starts_at).date()
                     - timedelta(days=ctx.config.intake.pre_visit_days_before))
    pre_visit_at = datetime.combine(pre_visit_day, time(9, 0), ZoneInfo(clinic.time_zone))
    if pre_visit_at < appointment.starts_at:  # I6: the hygienist prepares the first visit
        pre_visit_id = pre_visit_task_id(appointment.appointment_id)
        ctx.tables.tasks.create(StaffTask(
            task_id=pre_visit_id, kind=TaskKind.PRE_VISIT, role=Role.HYGIENIST, clinic_id=clinic.clinic_id,
            priority=TaskPriority.NORMAL, patient_id=patient.patient_id,
            title=(f"Prepare the first visit of new patient {patient.patient_id}: {kind.appointment_type}, "
                   f"{kind.duration_minutes} min, {_at_clinic(ctx, clinic.clinic_id, appointment.starts_at):%Y-%m-%d %H:%M}"),
            due_at=max(pre_visit_at, clock.now()), created_at=clock.now()))
    record = IntakeRecord(
        patient_id=patient.patient_id, clinic_id=clinic.clinic_id, day=booked_day, registered_at=appointment.created_at,
        appointment_id=appointment.appointment_id, appointment_type=appointment.appointment_type,
        starts_at=appointment.starts_at, missing=missing, onboarding_task_id=onboarding_id, pre_visit_task_id=pre_visit_id,
        notices_execution=notices_execution_name(appointment))
    ctx.tables.visits.start_intake(record)  # once: a retried step finds it written
    change_patient(ctx, patient.patient_id,  # I3: follow-up until the front office has onboarded them
                   lambda p: moved_status(p, PatientStatus.FOLLOW_UP, "new patient: onboarding open"))
    ctx.metrics.count("IntakeStarted")
    return IntakeResult(clinic_id=clinic.clinic_id, day=booked_day, missing=len(missing),
                        insured=bool(patient.insurance), pre_visit_task=pre_visit_id is not None)


def verify_coverage(request: CoverageRequest, ctx: TenantContext) -> CoverageResult:
    """I16: the first visit's coverage, from the tenant's eligibility provider; anything but active is a
    task for the office before billing."""
    patient = ctx.tables.patients.get(request.patient_id)
    appointment = ctx.tables.appointments.get(request.patient_id, request.appointment_id)
    service_day = _at_clinic(ctx, appointment.clinic_id, appointment.starts_at).date()
    result = ctx.eligibility.verify(patient, most_recent_policy(patient.insurance), service_day)
    change_patient(ctx, patient.patient_id, lambda p: p.model_copy(update={"latest_eligibility": result}))
    record = ctx.tables.visits.intake(request.clinic_id, request.day, request.patient_id)
    ctx.tables.visits.save_intake(record.model_copy(update={"coverage": result.status}))
    task = result.status != CoverageStatus.ACTIVE
    if task:
        ctx.tables.tasks.create(StaffTask(
            task_id=f"insurance-check-{appointment.appointment_id}", kind=TaskKind.INSURANCE_CHECK,
            role=Role.OFFICE_ADMIN, clinic_id=appointment.clinic_id, priority=TaskPriority.NORMAL,
            patient_id=patient.patient_id,
            title=(f"Check the insurance of patient {patient.patient_id} before {service_day}: coverage "
                   f"{result.status.value}" + (f" ({result.detail})" if result.detail else "")),
            due_at=appointment.starts_at, created_at=clock.now()))
    ctx.metrics.count(f"IntakeCoverage{result.status.value.title()}")
    return CoverageResult(coverage=result.status.value, task=task)


def onboarding_done(ctx: TenantContext, patient_id: str) -> Patient:
    """I3: the front office closed the onboarding task: the patient is Active."""
    return change_patient(ctx, patient_id, lambda p: moved_status(p, PatientStatus.ACTIVE, "onboarding done")
                          if p.status == PatientStatus.FOLLOW_UP and not p.planned_treatment else p)


DONE_KINDS = frozenset({TaskKind.ONBOARDING, TaskKind.PRE_VISIT, TaskKind.INSURANCE_CHECK, TaskKind.NEXT_VISIT})
"""Tasks closed as done (a call task is closed with its outcome instead)."""


def complete_task(ctx: TenantContext, task_id: str, staff_id: str | None) -> StaffTask:
    """A front-office or hygienist task done; the onboarding's closing makes the patient Active (I3)."""
    task = ctx.tables.tasks.get(task_id)
    if task.kind not in DONE_KINDS:
        raise InvalidRequest("task_id", f"a {task.kind.value} task is closed with its call outcome")
    closed = ctx.tables.tasks.close(task_id, TaskStatus.DONE, clock.now(), reason=f"done by {staff_id or 'staff'}")
    if closed and task.kind == TaskKind.ONBOARDING and task.patient_id:
        onboarding_done(ctx, task.patient_id)
    return ctx.tables.tasks.get(task_id)
