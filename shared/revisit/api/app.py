"""The API Lambda's resolver. Routers by resource family (revisit.api.routes), imported when a request for
them first arrives; errors become Problem bodies (404, 409, 422 naming the field, 401/403 from the credential
check). Personal data never goes to the logs."""

from __future__ import annotations

import functools
import importlib
import json
import threading
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import ValidationError

from revisit.api import API_TITLE, API_VERSION, JSON
from revisit.errors import Conflict, InvalidRequest, NotFound, SlotTaken, TransientError
from revisit.services.context import TenantContext
from revisit.topology import BOOKING_LINK_PATH, UNSUBSCRIBE_LINK_PATH

# --- the resolver --------------------------------------------------------------------------------
ROUTE_MODULES = {family: f"revisit.api.routes.{family}" for family in
                 ("patients", "availability", "appointments", "tasks", "leads", "campaigns", "visits")} \
    | {"staff": "revisit.api.staff"}
"""Each module defines `router`, the routes of one resource family."""

FAMILIES_BY_SEGMENT = {
    "patients": ("patients", "appointments", "visits"),
    "clinics": ("availability", "appointments", "tasks", "leads", "campaigns", "visits"),
    "appointments": ("appointments",),
    "tasks": ("tasks", "visits"),
    "orders": ("leads",), "leads": ("leads",), "registrars": ("leads",),
    "campaigns": ("campaigns",),
    "claims": ("visits",),
    "staff": ("staff",),
}
"""The route modules that can answer a path, by its first segment (tests/api/test_openapi.py holds it to every
route). A cold start imports only those, not the whole API: a patient's tap on a link or a health check
builds none of the integrators' routes (issue 14)."""


def build_resolver(families: tuple[str, ...] = tuple(ROUTE_MODULES)) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)

    @app.get("/health", summary="Liveness")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    for family in families:
        app.include_router(importlib.import_module(ROUTE_MODULES[family]).router)

    def problem(status: int, error: str, field: str | None = None) -> Response:
        return Response(status, "application/json", {"status": status, "error": error, "field": field})

    @app.exception_handler(NotFound)
    def not_found(exc: NotFound) -> Response:
        return problem(404, str(exc))

    @app.exception_handler(SlotTaken)
    def slot_taken(exc: SlotTaken) -> Response:
        return problem(409, str(exc), "starts_at")

    @app.exception_handler(Conflict)
    def conflict(exc: Conflict) -> Response:
        return problem(409, str(exc))

    @app.exception_handler(InvalidRequest)
    def invalid(exc: InvalidRequest) -> Response:
        return problem(422, exc.message, exc.field)

    @app.exception_handler(ValidationError)
    def invalid_model(exc: ValidationError) -> Response:
        first = exc.errors()[0]
        return problem(422, first["msg"], ".".join(str(p) for p in first["loc"]))

    @app.exception_handler(RequestValidationError)
    def invalid_request(exc: RequestValidationError) -> Response:
        first = exc.errors()[0]
        location = [str(p) for p in first.get("loc", ())]
        field = ".".join(location[1:] if location and location[0] in ("body", "query", "path", "header") else location)
        return problem(422, first.get("msg", "invalid"), field or None)

    @app.exception_handler(TransientError)
    def busy(exc: TransientError) -> Response:
        return Response(503, JSON, {"status": 503, "error": "busy for a moment: retry", "field": None},
                        headers={"Retry-After": "1"})

    @app.exception_handler(ServiceError)
    def service_error(exc: ServiceError) -> Response:
        return problem(exc.status_code, exc.msg)

    return app


def openapi_document() -> str:
    return resolver_for("/").get_openapi_json_schema(title=API_TITLE, version=API_VERSION)


@functools.cache
def _resolver() -> APIGatewayRestResolver:
    return build_resolver(())


_included: set[str] = set()
_including = threading.Lock()  # `revisit serve` answers requests on threads


def resolver_for(path: str) -> APIGatewayRestResolver:
    """The resolver, with the routes that can answer this path included ("/": every route, for the OpenAPI
    document). One resolver: a router reads the request's context from the resolver that included it last."""
    segment = path.strip("/").split("/", 1)[0]
    with _including:  # the resolver too: two first requests must not each build one
        resolver = _resolver()
        for family in FAMILIES_BY_SEGMENT.get(segment, ()) if segment else ROUTE_MODULES:
            if family not in _included:
                resolver.include_router(importlib.import_module(ROUTE_MODULES[family]).router)
                _included.add(family)
    return resolver


def handle(event: dict[str, Any], context: Any, tenant: TenantContext) -> dict[str, Any]:
    path = event.get("path") or ""
    if path.startswith(UNSUBSCRIBE_LINK_PATH):
        from revisit.api.unsubscribe import handle_unsubscribe

        return handle_unsubscribe(event, tenant)
    if path.startswith(BOOKING_LINK_PATH):
        from revisit.api.self_booking import handle_self_booking

        return handle_self_booking(event, tenant)
    refused = _unsupported_body(event)
    if refused is not None:
        return refused
    resolver = resolver_for(path)
    resolver.append_context(tenant=tenant)
    answer = resolver.resolve(event, context)
    if path.startswith("/staff/"):  # staff answers carry patients' data, errors included
        answer.setdefault("multiValueHeaders", {}).update({"Cache-Control": ["no-store"],
                                                           "X-Content-Type-Options": ["nosniff"]})
    return answer


def _unsupported_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """Only JSON bodies are read: anything else sent to a route that takes one is a 415 naming the header,
    before any parser sees it (a body sent with a GET is ignored)."""
    if event.get("httpMethod") not in ("POST", "PUT", "PATCH"):
        return None
    headers = event.get("headers") or {}
    names = [name for name in headers if name.lower() == "content-type"]
    if not names and not event.get("body"):
        return None
    media_type = (headers[names[0]] if names else "").split(";", 1)[0].strip().lower()
    if media_type == JSON:
        for name in names:  # the resolver compares the spelling exactly: give it the usual one
            headers[name] = JSON
        for name in [n for n in event.get("multiValueHeaders") or {} if n.lower() == "content-type"]:
            event["multiValueHeaders"][name] = [JSON]
        return None
    return {"statusCode": 415, "headers": {"Content-Type": JSON}, "isBase64Encoded": False, "body": json.dumps(
        {"status": 415, "error": f"only {JSON} request bodies are accepted", "field": "Content-Type"})}

