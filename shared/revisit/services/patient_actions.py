"""What patients and staff do that changes a recall: book, decline, opt out, a call's outcome.
The booking API (and, offline, the demo's simulated patients and staff) call these."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from revisit import clock
from revisit.errors import NotFound
from revisit.models.entities import (
    Appointment,
    CallResult,
    CycleStatus,
    RecallCycle,
    TaskKind,
    TaskStatus,
)
from revisit.services.campaign_members import record_answer
from revisit.services.context import TenantContext
from revisit.services.patients import change_patient
from revisit.services.recall import end_cycle


def open_cycle(ctx: TenantContext, patient_id: str) -> RecallCycle | None:
    patient = ctx.tables.patients.get(patient_id)
    if patient.recall_cycle_id is None:
        return None
    try:
        cycle = ctx.tables.cycles.get(patient_id, patient.recall_cycle_id)
    except NotFound:
        return None
    return cycle if cycle.status.is_open else None


def book_appointment(ctx: TenantContext, patient_id: str, starts_at: datetime, appointment_type: str) -> Appointment:
    """Books the visit and ends the patient's open recall cycle as Booked: its execution sends nothing more."""
    patient = ctx.tables.patients.get(patient_id)
    appointment = Appointment(
        appointment_id=f"a-{uuid.uuid4().hex[:12]}", patient_id=patient_id, clinic_id=patient.clinic_id,
        appointment_type=appointment_type, starts_at=starts_at, created_at=clock.now(),
    )
    ctx.tables.appointments.save(appointment)
    change_patient(ctx, patient_id, lambda stored: stored.model_copy(update={"next_appointment_at": starts_at}))
    cycle = open_cycle(ctx, patient_id)
    if cycle is not None:
        end_cycle(ctx, cycle, CycleStatus.BOOKED, "appointment booked")
    return appointment


def decline_recall(ctx: TenantContext, patient_id: str, reason: str) -> bool:
    if reason not in ctx.config.refusal_reasons:
        raise ValueError(f"refusal_reason: {reason!r} is not one of {ctx.config.refusal_reasons}")
    cycle = open_cycle(ctx, patient_id)
    return cycle is not None and end_cycle(ctx, cycle, CycleStatus.DECLINED, f"declined: {reason}")


def opt_out(ctx: TenantContext, patient_id: str) -> None:
    """Never another recall message: the flag is checked before every contact."""
    ctx.tables.patients.set_opted_out(patient_id, True)
    cycle = open_cycle(ctx, patient_id)
    if cycle is not None:
        end_cycle(ctx, cycle, CycleStatus.OPTED_OUT, "patient opted out")


REACHED = (CallResult.BOOKED, CallResult.DECLINED, CallResult.CALL_BACK)


def record_call_outcome(ctx: TenantContext, task_id: str, result: CallResult, reason: str | None = None,
                        staff_id: str | None = None) -> None:
    """A front-desk call's result (R24 logs it on the patient file through the task's attempt row). A recall
    call is counted for R26 (calls, reached, booked; per caller when the API names them), once: on the day,
    at the clinic, when its task closes."""
    task = ctx.tables.tasks.get(task_id)
    if result == CallResult.DECLINED and (reason is None or reason not in ctx.config.refusal_reasons):
        raise ValueError(f"reason: a declined call needs one of {ctx.config.refusal_reasons}")
    # A booking made during the call may have ended the recall, and with it this task, first.
    closed = ctx.tables.tasks.close(task_id, TaskStatus.DONE, clock.now(), result=result.value, reason=reason,
                                    outcome_after_cancel=True)
    if closed and task.kind == TaskKind.RECALL_CALL:
        day = clock.now().astimezone(ZoneInfo(ctx.config.clinic(task.clinic_id).time_zone)).date()
        for name in ("recall_calls", "recall_calls_reached" if result in REACHED else None,
                     "recall_calls_booked" if result == CallResult.BOOKED else None):
            if name:
                ctx.tables.daily_counts.add(task.clinic_id, day, name)
                if staff_id:
                    ctx.tables.daily_counts.add(task.clinic_id, day, f"{name}@{staff_id}")
    if task.patient_id is None:
        return
    if task.kind == TaskKind.REACTIVATION_CALL and task.campaign_id:
        if result in REACHED and result != CallResult.BOOKED:  # an answer; a booking the chain sees: recovered
            record_answer(ctx, task.campaign_id, task.patient_id, f"reached on the call: {result.value}")
        return
    if result == CallResult.DECLINED:
        decline_recall(ctx, task.patient_id, reason or "other")
    elif result == CallResult.BOOKED:  # the front desk booked on the call: the ladder stops here
        cycle = open_cycle(ctx, task.patient_id)
        if cycle is not None:
            end_cycle(ctx, cycle, CycleStatus.BOOKED, "booked on the front desk's call")
        # Booked in another system, or not after all: with nothing on Revisit's schedule, the patient comes
        # back into recall rebook_after_days later (a visit booked here meanwhile holds them).
        back = clock.now().date() + timedelta(days=ctx.config.recall.rebook_after_days)
        change_patient(ctx, task.patient_id, lambda patient: patient if patient.next_appointment_at is not None
                       else patient.model_copy(update={"recall_from": max(back, patient.recall_from or back)}))
    elif result == CallResult.WRONG_NUMBER:  # no SMS or call to it until the number changes (domain/consent.py)
        change_patient(ctx, task.patient_id, lambda patient: patient.model_copy(update={"phone_invalid": True}))
