"""Visit close-out and billing (I9-I17): visits, balances, plans, claims, the intake list."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from revisit import clock
from revisit.api import JSON
from revisit.api.models import (
    ClaimMove,
    NewVisit,
    PathId,
    TaskDone,
    VisitView,
)
from revisit.api.routing import READ_ERRORS, WRITE_ERRORS, answers, integrator_of, tenant_of
from revisit.errors import InvalidRequest, NotFound
from revisit.models.entities import (
    StaffTask,
)
from revisit.services import intake, visit

router = APIGatewayRouter()


def _visit_view(record) -> VisitView:
    return VisitView(**record.model_dump(include=set(VisitView.model_fields) - {"has_note"}), has_note=bool(record.note))


@router.post("/patients/<patient_id>/appointments/<appointment_id>/visit",
             summary="Close a visit (I9): procedures performed and findings; prices, bills and plans it",
             responses=answers(WRITE_ERRORS, _201="Recorded; the close-out runs",
                               _200="Closed before: the first visit, unchanged"))
def close_visit(patient_id: PathId, appointment_id: PathId, body: NewVisit) -> Response[VisitView]:
    integrator = integrator_of(router, patient_id=patient_id)
    ctx = tenant_of(router)
    if body.recorded_by is not None and body.recorded_by not in {m.staff_id for m in ctx.config.staff}:
        raise InvalidRequest("recorded_by", f"{body.recorded_by!r} is not a staff member")
    record, created = visit.close_visit(ctx, patient_id, appointment_id, body.performed, body.findings,
                                        body.note or "", body.recorded_by or integrator)
    return Response(201 if created else 200, JSON, _visit_view(record))


@router.get("/patients/<patient_id>/appointments/<appointment_id>/visit",
            summary="A visit's fees, the insurance and patient portions, its claim", responses=answers(READ_ERRORS))
def read_visit(patient_id: PathId, appointment_id: PathId) -> VisitView:
    integrator_of(router, patient_id=patient_id)
    return _visit_view(tenant_of(router).tables.visits.visit(patient_id, appointment_id))


@router.get("/patients/<patient_id>/balance",
            summary="I17: what the patient owes, visit by visit, after coverage and payments", responses=answers(READ_ERRORS))
def patient_balance(patient_id: PathId) -> dict:
    integrator_of(router, patient_id=patient_id)
    return visit.balance(tenant_of(router), patient_id)


@router.get("/patients/<patient_id>/treatment-plans", summary="I13: the patient's treatment plans",
            responses=answers(READ_ERRORS))
def treatment_plans(patient_id: PathId) -> list[dict]:
    integrator_of(router, patient_id=patient_id)
    return [p.model_dump(mode="json") for p in tenant_of(router).tables.visits.plans_for(patient_id)]


def _claim(claim_id: str):
    claim = tenant_of(router).tables.visits.claim(claim_id)
    integrator_of(router, patient_id=claim.patient_id)
    return claim


@router.get("/claims/<claim_id>", summary="I10: a claim and its status history", responses=answers(READ_ERRORS))
def read_claim(claim_id: PathId) -> dict:
    return _claim(claim_id).model_dump(mode="json")


@router.post("/claims/<claim_id>/status", summary="I10: move a claim forward (submitted, accepted, paid, denied)",
             responses=answers(WRITE_ERRORS))
def move_claim(claim_id: PathId, body: ClaimMove) -> dict:
    integrator = integrator_of(router)
    _claim(claim_id)
    return visit.move_claim(tenant_of(router), claim_id, body.status, body.by or integrator).model_dump(mode="json")


@router.get("/clinics/<clinic_id>/intake", summary="I15: a day's new patients and their onboarding state",
            responses=answers(READ_ERRORS))
def intake_list(clinic_id: PathId, day: Annotated[date | None, Query(alias="date")] = None) -> list[dict]:
    integrator_of(router, clinic_id=clinic_id)
    ctx = tenant_of(router)
    if clinic_id not in {c.clinic_id for c in ctx.config.clinics}:
        raise NotFound("clinic", clinic_id)
    day = day or clock.now().astimezone(ZoneInfo(ctx.config.clinic(clinic_id).time_zone)).date()
    return [r.model_dump(mode="json") for r in ctx.tables.visits.intakes_on(clinic_id, day)]


@router.post("/tasks/<task_id>/done", summary="A task done (onboarding, pre-visit, insurance check, next visit)",
             responses=answers(WRITE_ERRORS))
def task_done(task_id: PathId, body: TaskDone) -> StaffTask:
    integrator_of(router, task_id=task_id)
    return intake.complete_task(tenant_of(router), task_id, body.staff_id)
