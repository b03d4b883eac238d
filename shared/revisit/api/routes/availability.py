"""Free slots (R18)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from revisit.api.models import (
    AvailabilityView,
    PathId,
    SlotView,
)
from revisit.api.routing import READ_ERRORS, answers, integrator_of, tenant_of
from revisit.services import booking

router = APIGatewayRouter()


@router.get("/clinics/<clinic_id>/availability", summary="Free slots (R18)", responses=answers(READ_ERRORS))
def free_slots(
    clinic_id: PathId,
    appointment_type: Annotated[str, Query(min_length=1)],
    from_: Annotated[date, Query(alias="from")],
    to: Annotated[date, Query()],
    provider_id: Annotated[str | None, Query()] = None,
) -> AvailabilityView:
    integrator_of(router, clinic_id=clinic_id)
    found = booking.availability(tenant_of(router), clinic_id, appointment_type, from_, to, provider_id)
    return AvailabilityView(clinic_id=clinic_id, appointment_type=appointment_type,
                            slots=[SlotView(provider_id=s.provider_id, starts_at=s.starts_at, ends_at=s.ends_at)
                                   for s in found.slots])
