"""The link in a recall or marketing email (X5, RFC 8058): the one patient-facing route, and the only one
without the integrator authorizer; the link's signature is its credential. GET shows the question and
changes nothing (mail scanners open links); POST, from the mail client's one-click or the page's button,
unsubscribes. Anything not signed by the tenant's key is one 'not valid' page, whatever was wrong."""

from __future__ import annotations

from typing import Any

from revisit.errors import NotFound
from revisit.rendering import render
from revisit.services.context import TenantContext
from revisit.services.unsubscribe import UnsubscribeLink, read_link, unsubscribe
from revisit.topology import UNSUBSCRIBE_LINK_PATH

HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the link is the credential: never in another site's logs
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


def handle_unsubscribe(event: dict[str, Any], ctx: TenantContext) -> dict[str, Any]:
    token = event["path"][len(UNSUBSCRIBE_LINK_PATH):]
    method = event.get("httpMethod")
    if method not in ("GET", "HEAD", "POST"):
        return {"statusCode": 405, "headers": HEADERS | {"Allow": "GET, POST"}, "body": "", "isBase64Encoded": False}
    try:
        link = unsubscribe(ctx, token) if method == "POST" else read_link(ctx, token)
    except NotFound:
        return _page(ctx, 404, ctx.config.default_language, state="invalid", kind=None)
    return _page(ctx, 200, link.patient.language, state="done" if link.done else "ask", link=link)


def _page(ctx: TenantContext, status: int, language: str, *, state: str, kind: str | None = None,
          link: UnsubscribeLink | None = None) -> dict[str, Any]:
    clinic = ctx.config.clinic(link.patient.clinic_id) if link else None
    body = render(language, "unsubscribe_page.html", state=state, kind=link.kind.value if link else kind,
                  clinic_name=clinic.name if clinic else ctx.config.name, clinic_phone=clinic.phone if clinic else "")
    return {"statusCode": status, "headers": HEADERS, "body": body, "isBase64Encoded": False}
