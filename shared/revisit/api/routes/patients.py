"""Patients: registration, contact details and consent, their history and insurance."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from revisit import clock
from revisit.api.models import (
    ContactView,
    CycleView,
    InsuranceView,
    NewPatient,
    PathId,
    PatientChanges,
    PatientHistory,
    PatientView,
    RecallScheduleEntry,
)
from revisit.api.routing import READ_ERRORS, WRITE_ERRORS, answers, integrator_of, tenant_of
from revisit.domain.insurance import most_recent_policy
from revisit.domain.recall_dates import history_problem, merge_history, recall_schedule
from revisit.errors import InvalidRequest, NotFound
from revisit.models.entities import (
    EligibilityResult,
    InsurancePolicy,
    Patient,
    RecallItem,
)
from revisit.services import booking, patient_actions
from revisit.services.context import TenantContext
from revisit.services.patients import change_patient

router = APIGatewayRouter()


@router.post("/patients", summary="Register a patient", responses=answers(WRITE_ERRORS, _201="Created"))
def create_patient(body: NewPatient) -> Response[PatientView]:
    integrator_of(router, clinic_id=body.clinic_id)
    ctx = tenant_of(router)
    if body.clinic_id not in {c.clinic_id for c in ctx.config.clinics}:
        raise InvalidRequest("clinic_id", f"unknown clinic {body.clinic_id!r}")
    _check_history(ctx, body.model_dump())
    patient = Patient(**body.model_dump())
    ctx.tables.patients.create(patient)
    return Response(201, "application/json", _view(patient, ctx))


@router.get("/patients/<patient_id>", summary="Read a patient", responses=answers(READ_ERRORS))
def read_patient(patient_id: PathId) -> PatientView:
    integrator_of(router, patient_id=patient_id)
    ctx = tenant_of(router)
    return _view(ctx.tables.patients.get(patient_id), ctx)


@router.patch("/patients/<patient_id>", summary="Update contact details, consent and status", responses=answers(WRITE_ERRORS))
def update_patient(patient_id: PathId, body: PatientChanges) -> PatientView:
    integrator_of(router, patient_id=patient_id)
    ctx = tenant_of(router)
    patient = ctx.tables.patients.get(patient_id)
    changes = body.model_dump(exclude_unset=True)
    _check_history(ctx, changes)
    if changes.get("recalls") is not None:
        changes["recalls"] = [RecallItem(**item) for item in changes["recalls"]]
    if changes.get("recalls") is not None or changes.get("last_visit") is not None:
        return _view(change_patient(ctx, patient_id, lambda stored: merge_history(
            stored.model_copy(update={k: v for k, v in changes.items() if k not in ("recalls", "last_visit")}),
            changes.get("last_visit"), changes.get("recalls"))), ctx)
    if changes.get("phone", patient.phone) != patient.phone:
        changes["phone_invalid"] = False  # a new number may be tried again
    if changes.get("opted_out") is True and not patient.opted_out:
        patient_actions.opt_out(ctx, patient_id)
    return _view(change_patient(ctx, patient_id, lambda stored: stored.model_copy(update=changes)), ctx)


@router.get("/patients/<patient_id>/history", summary="Recall cycles and the communication log (R24, X3)",
              responses=answers(READ_ERRORS))
def patient_history(patient_id: PathId) -> PatientHistory:
    integrator_of(router, patient_id=patient_id)
    ctx = tenant_of(router)
    ctx.tables.patients.get(patient_id)  # 404 for an unknown patient
    cycles = sorted(ctx.tables.cycles.for_patient(patient_id), key=lambda c: c.opened_at)
    contacts = sorted(ctx.tables.attempts.for_patient(patient_id), key=lambda a: a.at)
    return PatientHistory(
        patient_id=patient_id,
        cycles=[CycleView.model_validate(c.model_dump(include=set(CycleView.model_fields))) for c in cycles],
        contacts=[ContactView(ledger=a.cycle_id, step=a.step, channel=a.channel, outcome=a.outcome, at=a.at,
                              message_id=a.message_id, task_id=a.task_id, detail=a.detail) for a in contacts])


@router.get("/patients/<patient_id>/insurance", summary="The primary policy and its latest verification (R17)", responses=answers(READ_ERRORS))
def read_insurance(patient_id: PathId) -> InsuranceView:
    integrator_of(router, patient_id=patient_id)
    patient = tenant_of(router).tables.patients.get(patient_id)
    return InsuranceView(primary=most_recent_policy(patient.insurance), latest_verification=patient.latest_eligibility)


@router.put("/patients/<patient_id>/insurance/primary", summary="Record a policy; the most recent one is primary", responses=answers(WRITE_ERRORS))
def put_policy(patient_id: PathId, body: InsurancePolicy) -> InsuranceView:
    integrator_of(router, patient_id=patient_id)
    ctx = tenant_of(router)
    unknown = sorted(set(body.category_percent) - {c.category for c in ctx.config.billing.categories})
    if unknown:  # a typo would leave every real category at 0 %
        raise InvalidRequest("category_percent", f"unknown procedure categories {unknown}")
    patient = change_patient(ctx, patient_id, lambda stored: stored.model_copy(update={"insurance": [
        p for p in stored.insurance if (p.payer, p.member_id) != (body.payer, body.member_id)] + [body]}))
    return InsuranceView(primary=most_recent_policy(patient.insurance), latest_verification=patient.latest_eligibility)


@router.post("/patients/<patient_id>/insurance/verification", summary="Verify the primary policy now (R17)", responses=answers(WRITE_ERRORS))
def verify_insurance(patient_id: PathId) -> EligibilityResult:
    integrator_of(router, patient_id=patient_id)
    return booking.verify_primary_insurance(tenant_of(router), patient_id)


def _check_history(ctx: TenantContext, fields: dict[str, Any]) -> None:
    """X4: recall types the tenant knows, each once, and no date in the future (any clinic's today)."""
    problem = history_problem(fields, {rt.recall_type for rt in ctx.config.recall_types},
                              clock.now().date() + timedelta(days=1))
    if problem is not None:
        raise InvalidRequest(*problem)


def _view(patient: Patient, ctx: TenantContext) -> PatientView:
    """The record, and (X2) each recall type's own due date and status."""
    view = PatientView.model_validate(patient.model_dump(include=set(PatientView.model_fields) - {"recall_schedule"}))
    in_cycle: list[str] = []
    if patient.recall_cycle_id:
        with contextlib.suppress(NotFound):
            cycle = ctx.tables.cycles.get(patient.patient_id, patient.recall_cycle_id)
            in_cycle = cycle.recall_types if cycle.status.is_open else []
    today = clock.now().astimezone(ZoneInfo(ctx.config.clinic(patient.clinic_id).time_zone)).date()
    schedule = recall_schedule(patient, {rt.recall_type: rt for rt in ctx.config.recall_types},
                               ctx.config.sweep.lead_days, today, in_cycle)
    return view.model_copy(update={"recall_schedule": [RecallScheduleEntry(**entry) for entry in schedule]})
