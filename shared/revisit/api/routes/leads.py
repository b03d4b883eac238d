"""Referral follow-up (F1-F11): orders, leads, their calls and timelines."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from revisit.api import JSON
from revisit.api.models import (
    Assignment,
    LeadCallOutcome,
    LeadTimeline,
    LeadView,
    NewOrder,
    PathId,
    TimelineEntry,
)
from revisit.api.routing import READ_ERRORS, WRITE_ERRORS, answers, integrator_of, tenant_of
from revisit.domain.leads import CallOutcome as LeadOutcome
from revisit.errors import InvalidRequest, NotFound
from revisit.models.entities import (
    Lead,
    StaffTask,
)
from revisit.services import referral

router = APIGatewayRouter()


def _lead_view(lead: Lead) -> LeadView:
    return LeadView(**lead.model_dump(include=set(LeadView.model_fields) - {"execution_name"}),
                    execution_name=referral.execution_name(lead.lead_id))


def _lead(lead_id: str) -> Lead:
    """The lead, if the credential may see its clinic (404 otherwise, like a lead that does not exist)."""
    integrator_of(router)
    lead = tenant_of(router).tables.leads.get(lead_id)
    integrator_of(router, clinic_id=lead.clinic_id)
    return lead


def _known_clinic(clinic_id: str) -> None:
    integrator_of(router, clinic_id=clinic_id)
    if clinic_id not in {c.clinic_id for c in tenant_of(router).config.clinics}:
        raise NotFound("clinic", clinic_id)


@router.post("/orders", summary="A doctor's order for a control procedure by a due date (F1): its lead (F2)",
            responses=answers(WRITE_ERRORS, _201="Lead created", _200="The same order again: its lead"))
def create_order(body: NewOrder) -> Response[LeadView]:
    ctx = tenant_of(router)
    integrator_of(router)
    try:  # a patient the credential may not see is as unknown as one that does not exist
        integrator_of(router, patient_id=body.patient_id)
    except NotFound:
        raise InvalidRequest("patient_id", f"unknown patient {body.patient_id!r}") from None
    lead, created = referral.create_order(ctx, order_id=body.order_id, patient_id=body.patient_id,
                                          procedure_id=body.procedure_id, ordered_by=body.ordered_by,
                                          due_date=body.due_date, notes=body.notes or "")
    return Response(201 if created else 200, JSON, _lead_view(lead))


@router.get("/leads/<lead_id>", summary="A lead and its timeline: every change, who made it, when and why",
           responses=answers(READ_ERRORS))
def lead_timeline(lead_id: PathId) -> LeadTimeline:
    _lead(lead_id)
    lead, entries = tenant_of(router).tables.leads.timeline(lead_id)
    return LeadTimeline(lead=_lead_view(lead), timeline=[TimelineEntry(
        at=e.at, event=e.event.value, by=e.by, stage_before=e.stage_before.value, stage_after=e.stage_after.value,
        applied=e.applied, detail=e.detail) for e in entries])


@router.post("/leads/<lead_id>/assignment", summary="Assign the registrar who calls (F4)", responses=answers(WRITE_ERRORS))
def assign_lead(lead_id: PathId, body: Assignment) -> LeadView:
    _lead(lead_id)
    return _lead_view(referral.assign(tenant_of(router), lead_id, body.registrar_id, body.assigned_by))


@router.post("/leads/<lead_id>/call-outcome", summary="Record the call's outcome from the call script (F6, F8, F11)",
            responses=answers(WRITE_ERRORS))
def lead_call_outcome(lead_id: PathId, body: LeadCallOutcome) -> LeadView:
    _lead(lead_id)
    return _lead_view(referral.record_call(
        tenant_of(router), lead_id, outcome=LeadOutcome(body.outcome), by=body.registrar_id,
        refusal_reason=body.refusal_reason, appointment_id=body.appointment_id,
        wants_contact_later=body.wants_contact_later))


@router.get("/clinics/<clinic_id>/leads", summary="A clinic's open leads in one stage, earliest due first "
           "(stage=new: the senior registrar's unassigned leads)", responses=answers(READ_ERRORS))
def open_leads(clinic_id: PathId, stage: Annotated[Literal["new", "assigned", "booked"], Query()] = "new",
               ) -> list[LeadView]:
    _known_clinic(clinic_id)
    return [_lead_view(lead) for lead in tenant_of(router).tables.leads.open_in_stage(clinic_id, stage)]


@router.get("/clinics/<clinic_id>/leads/past-due", summary="Open leads whose due date has passed (clinic time)",
           responses=answers(READ_ERRORS))
def past_due_leads(clinic_id: PathId) -> list[LeadView]:
    _known_clinic(clinic_id)
    return [_lead_view(lead) for lead in referral.past_due(tenant_of(router), clinic_id)]


@router.get("/registrars/<registrar_id>/calls", summary="A registrar's referral calls due by the end of a day "
           "(default: today at their clinic), earliest first (F5)", responses=answers(READ_ERRORS))
def registrar_calls(registrar_id: PathId, day: Annotated[date | None, Query(alias="date")] = None) -> list[StaffTask]:
    ctx = tenant_of(router)
    integrator_of(router)
    member = next((m for m in ctx.config.staff if m.staff_id == registrar_id), None)
    if member is not None and member.clinic_id is not None:
        integrator_of(router, clinic_id=member.clinic_id)
    return referral.calls_due(ctx, registrar_id, day)
