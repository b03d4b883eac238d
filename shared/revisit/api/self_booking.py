"""X11: the patient's booking page at the link in a recall message, without the integrator authorizer (the
link is the credential). GET shows the free times (`?from=YYYY-MM-DD` for later ones) and changes nothing;
POST books the chosen one. A POST from another site is refused (Origin, Sec-Fetch-Site) and the form carries
a token only the link's record can make. The page names no patient; nothing of the request is logged."""

from __future__ import annotations

import base64
from datetime import UTC, date
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from revisit.errors import InvalidRequest
from revisit.models.entities import ConfirmationStatus
from revisit.rendering import render
from revisit.services.context import TenantContext
from revisit.services.self_booking import BookingPage, PageState, language_of, open_page, submit
from revisit.topology import BOOKING_LINK_PATH

HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the link is the credential: never in another site's logs
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
}
STATUS = {PageState.OPEN: 200, PageState.BOOKED: 200, PageState.MANAGE: 200, PageState.CANCELLED: 200,
          PageState.CLOSED: 200, PageState.EXPIRED: 410, PageState.INVALID: 404}
FORM = "application/x-www-form-urlencoded"


def handle_self_booking(event: dict[str, Any], ctx: TenantContext) -> dict[str, Any]:
    token = event["path"][len(BOOKING_LINK_PATH):]
    method = event.get("httpMethod")
    if method not in ("GET", "POST"):  # what infra/constructs/api.py routes to it
        return {"statusCode": 405, "headers": HEADERS | {"Allow": "GET, POST"}, "body": "", "isBase64Encoded": False}
    try:
        if method == "POST":
            _same_site(event, ctx)
            page = submit(ctx, token, _form(event))
        else:
            page = open_page(ctx, token, _from_day(event))
    except InvalidRequest as refused:
        return _error(ctx, refused, language_of(ctx, token))
    return _response(ctx, STATUS[page.state], page)


def _response(ctx: TenantContext, status: int, page: BookingPage, error: str | None = None) -> dict[str, Any]:
    clinic = page.clinic
    zone = ZoneInfo(clinic.time_zone) if clinic else UTC
    language = page.language
    visit = ctx.config.appointment_type(page.appointment_type).labels if page.appointment_type else {}
    # What is due, named as the recall message named it; an appointment's page names its visit.
    due = [rt.labels.get(language) or rt.labels[ctx.config.default_language]
           for rt in ctx.config.recall_types if rt.recall_type in page.recall_types]
    # Each time as the form sends it back (provider and instant) and as the patient reads it (clinic time).
    days = [(day, [(f"{slot.provider_id}|{slot.starts_at.isoformat()}", slot.starts_at.astimezone(zone))
                   for slot in slots]) for day, slots in page.days]
    body = render(page.language, "self_booking_page.html", state=page.state.value, error=error, notice=page.notice,
                  clinic_name=clinic.name if clinic else ctx.config.name, clinic_phone=clinic.phone if clinic else "",
                  clinic_address=clinic.address if clinic else "",
                  visit=" + ".join(due) or visit.get(language) or visit.get(ctx.config.default_language) or "",
                  days=days, next_from=page.next_from, form_token=page.form_token,
                  booked_at=page.appointment.starts_at.astimezone(zone) if page.appointment else None,
                  confirmed=bool(page.appointment and page.appointment.confirmation == ConfirmationStatus.CONFIRMED))
    return {"statusCode": status, "headers": HEADERS, "body": body, "isBase64Encoded": False}


def _error(ctx: TenantContext, refused: InvalidRequest, language: str) -> dict[str, Any]:
    """A refused form or query: 422 (403 for another site's POST) in the link's language, the field named
    (for whoever helps the patient on the phone), nothing changed."""
    page = BookingPage(PageState.INVALID, language)
    status = 403 if refused.field in ("Origin", "Sec-Fetch-Site") else 422
    return _response(ctx, status, page, error=f"{refused.field}: {refused.message}")


def _same_site(event: dict[str, Any], ctx: TenantContext) -> None:
    """Browsers say where a POST comes from in Sec-Fetch-Site; Origin is 'null' from our own page (its
    Referrer-Policy is no-referrer), so it refuses only a named other site. The form token does the rest."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
        raise InvalidRequest("Sec-Fetch-Site", "a booking is made from the link's own page")
    origin = headers.get("origin")
    if origin and origin != "null" and ctx.public_url:
        ours = urlsplit(ctx.public_url)
        if origin.rstrip("/") != f"{ours.scheme}://{ours.netloc}":
            raise InvalidRequest("Origin", "a booking is made from the link's own page")


def _form(event: dict[str, Any]) -> dict[str, str]:
    """The page's form fields, each given once; a field sent twice is refused by name."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if (headers.get("content-type") or "").split(";", 1)[0].strip().lower() != FORM:
        raise InvalidRequest("Content-Type", f"the page's form is sent as {FORM}")
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    try:
        fields = parse_qs(body, max_num_fields=10)
    except ValueError:
        raise InvalidRequest("body", "more fields than the page's form has") from None
    for name, values in fields.items():
        if len(values) > 1:
            raise InvalidRequest(name, "sent more than once")
    return {name: values[0] for name, values in fields.items()}


def _from_day(event: dict[str, Any]) -> date | None:
    value = (event.get("queryStringParameters") or {}).get("from")
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest("from", "is not a date (YYYY-MM-DD)") from None
