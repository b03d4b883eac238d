"""Reactivation (A1-A8): campaigns, their results, the inactive list and the daily list."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from revisit import clock
from revisit.api import JSON
from revisit.api.models import (
    NewCampaign,
    Observation,
    PathId,
)
from revisit.api.routing import READ_ERRORS, WRITE_ERRORS, answers, integrator_of, tenant_of
from revisit.errors import NotFound
from revisit.models.entities import (
    Campaign,
)
from revisit.services import reactivation

router = APIGatewayRouter()


@router.post("/campaigns", summary="Start a reactivation campaign over segments of the inactive patients (A5)",
                responses=answers(WRITE_ERRORS, _201="Started", _200="The same campaign again"))
def start_campaign(body: NewCampaign) -> Response[dict]:
    integrator_of(router)
    for clinic_id in body.clinics:
        integrator_of(router, clinic_id=clinic_id)
    campaign = Campaign(**body.model_dump(), created_at=clock.now())
    stored, created = reactivation.create_campaign(tenant_of(router), campaign)
    return Response(201 if created else 200, JSON, stored.model_dump(mode="json"))


@router.get("/campaigns/<campaign_id>", summary="A campaign's results (A8): goal against recovered, responses "
               "by link, never reached, days to booking, per treatment", responses=answers(READ_ERRORS))
def campaign_results(campaign_id: PathId) -> dict:
    integrator_of(router)
    return reactivation.results(tenant_of(router), campaign_id)


@router.post("/campaigns/<campaign_id>/patients/<patient_id>/observations",
                summary="Record what the team learnt of a contacted patient (A6)", responses=answers(WRITE_ERRORS))
def observe(campaign_id: PathId, patient_id: PathId, body: Observation) -> dict:
    integrator_of(router, patient_id=patient_id)
    member = reactivation.record_observation(tenant_of(router), campaign_id, patient_id, body.note, body.responded)
    return {"patient_id": patient_id, "outcome": member.outcome.value, "observations": len(member.observations)}


@router.get("/clinics/<clinic_id>/inactive", summary="The clinic's inactive patients with their contact details "
               "(A1, A2), longest inactive first; format=csv for a spreadsheet", responses=answers(READ_ERRORS))
def inactive_patients(clinic_id: PathId, format: Annotated[Literal["json", "csv"], Query()] = "json",
                      limit: Annotated[int, Query(ge=1, le=1000)] = 500,
                      after: Annotated[str | None, Query(max_length=2000)] = None) -> Response[Any]:
    integrator_of(router, clinic_id=clinic_id)
    ctx = tenant_of(router)
    if clinic_id not in {c.clinic_id for c in ctx.config.clinics}:
        raise NotFound("clinic", clinic_id)
    listing = reactivation.inactive_list(ctx, clinic_id, limit, after)
    if format == "csv":
        return Response(200, "text/csv; charset=utf-8", reactivation.inactive_csv(listing["patients"]))
    return Response(200, JSON, listing)


@router.get("/clinics/<clinic_id>/daily-list", summary="The administrator's day (A7): today's agenda, tomorrow's "
               "unconfirmed appointments, the reactivation calls due", responses=answers(READ_ERRORS))
def daily_list(clinic_id: PathId) -> dict:
    integrator_of(router, clinic_id=clinic_id)
    ctx = tenant_of(router)
    if clinic_id not in {c.clinic_id for c in ctx.config.clinics}:
        raise NotFound("clinic", clinic_id)
    return reactivation.daily_list(ctx, clinic_id)
