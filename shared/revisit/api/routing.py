"""What every route module shares: the error answers each route documents, the tenant's context of the
request, and the integrator's credential check."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from revisit.api import JSON
from revisit.api.models import (
    GatewayMessage,
    Problem,
)
from revisit.errors import NotFound
from revisit.services.context import TenantContext


def _problem(description: str) -> dict:
    return {"description": description, "content": {JSON: {"model": Problem}}}


def _gateway(description: str) -> dict:
    return {"description": description, "content": {JSON: {"model": GatewayMessage}}}


READ_ERRORS = {401: _gateway("No credential, or one we did not issue (the authorizer)"),
               403: _gateway("A revoked credential, or another tenant's"),
               404: _problem("No such patient, appointment, clinic or task"),
               422: _problem("A field is wrong: `field` names it"),
               429: _gateway("Over the integrator's rate"),
               503: _problem("Busy for a moment (throttled, or the record kept changing): retry")}
WRITE_ERRORS = READ_ERRORS | {409: _problem("The record changed or is in another state (a taken slot names starts_at)"),
                              415: _problem("The body is not application/json")}


def answers(errors: dict, **success: str) -> dict:
    """The responses of a route: its successes (status code as `_201="..."`; 200 by default, its body the
    route's return type) and the errors it can give."""
    return {int(code.lstrip("_")): {"description": text} for code, text in (success or {"_200": "OK"}).items()} | errors




def tenant_of(router: APIGatewayRouter) -> TenantContext:
    """The tenant's context, appended by `handle` for each request (the resolver clears it afterwards)."""
    return router.context["tenant"]


def integrator_of(app: APIGatewayRouter, *, clinic_id: str | None = None, patient_id: str | None = None,
               task_id: str | None = None) -> str:
    """The authorizer (on AWS, API Gateway's Lambda authorizer; offline, `revisit serve`) has checked the
    credential; the API still refuses a request that carries none, or another tenant's. A credential scoped to
    some clinics sees nothing of the others: their clinics, patients and tasks are not found (404)."""
    authorizer = (app.current_event.request_context.authorizer.raw_event or {}) if app.current_event.request_context else {}
    integrator_id, tenant_id = authorizer.get("integrator_id"), authorizer.get("tenant_id")
    if not integrator_id:
        raise ServiceError(401, "no authenticated integrator")
    ctx = tenant_of(app)
    if tenant_id != ctx.config.tenant_id:
        raise ServiceError(403, "credential is for another tenant")
    scope = {c for c in (authorizer.get("clinics") or "").split(",") if c}
    if scope:
        if clinic_id is not None and clinic_id not in scope:
            raise NotFound("clinic", clinic_id)
        if patient_id is not None and ctx.tables.patients.get(patient_id).clinic_id not in scope:
            raise NotFound("patient", patient_id)
        if task_id is not None and ctx.tables.tasks.get(task_id).clinic_id not in scope:
            raise NotFound("task", task_id)
    return integrator_id
