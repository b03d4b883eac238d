"""Staff work queues and call outcomes."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from revisit.api.models import (
    CallOutcome,
    PathId,
)
from revisit.api.routing import READ_ERRORS, WRITE_ERRORS, answers, integrator_of, tenant_of
from revisit.errors import InvalidRequest, NotFound
from revisit.models.common import Role
from revisit.models.entities import (
    StaffTask,
)
from revisit.services import patient_actions

router = APIGatewayRouter()


@router.get("/clinics/<clinic_id>/tasks", summary="A role's open work queue, oldest due first", responses=answers(READ_ERRORS))
def work_queue(clinic_id: PathId, role: Annotated[Role, Query()] = Role.FRONT_DESK,
               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[StaffTask]:
    integrator_of(router, clinic_id=clinic_id)
    ctx = tenant_of(router)
    if clinic_id not in {c.clinic_id for c in ctx.config.clinics}:
        raise NotFound("clinic", clinic_id)
    # Due day (the clinic's) first; within a day, R25: the patients likeliest to book first (no score: 50).
    zone = ZoneInfo(ctx.config.clinic(clinic_id).time_zone)
    return sorted(ctx.tables.tasks.open_queue(clinic_id, role.value, limit), key=lambda task: (
        task.due_at.astimezone(zone).date(), -(task.retention_score if task.retention_score is not None else 50),
        task.due_at))


@router.post("/tasks/<task_id>/call-outcome", summary="Record a call's result and reason", responses=answers(WRITE_ERRORS))
def call_outcome(task_id: PathId, body: CallOutcome) -> StaffTask:
    integrator_of(router, task_id=task_id)
    ctx = tenant_of(router)
    if body.staff_id is not None:
        member = next((m for m in ctx.config.staff if m.staff_id == body.staff_id), None)
        if member is None or member.clinic_id not in (None, ctx.tables.tasks.get(task_id).clinic_id):
            raise InvalidRequest("staff_id", f"{body.staff_id!r} is not a staff member of the task's clinic")
    try:
        patient_actions.record_call_outcome(ctx, task_id, body.result, body.reason, body.staff_id)
    except ValueError as exc:
        raise InvalidRequest("reason", str(exc).split(": ", 1)[-1]) from None
    return ctx.tables.tasks.get(task_id)
