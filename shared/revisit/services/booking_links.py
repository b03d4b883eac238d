"""X11: the self-booking link in a recall message. One link per recall cycle: its id is the first 120 bits of
the tenant key's HMAC of the cycle (KMS on AWS), so a retried or later message carries the same short link,
the URL names no patient and no id can be guessed or forged. The link's item holds what the page needs and
when the link stops opening it; each message that carries it extends that."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta

from revisit import clock
from revisit.domain.sms import SMS_LINK_BASE_MAX
from revisit.models.entities import Appointment, BookingLink, LinkPurpose, RecallCycle
from revisit.services.context import TenantContext
from revisit.topology import BOOKING_LINK_PATH

LINK_ID_BYTES = 15
"""120 bits: 20 URL-safe characters."""
LINK_ID_LENGTH = 20


def booking_url(ctx: TenantContext, cycle: RecallCycle, sms: bool = False) -> str | None:
    """The cycle's link, issued or extended now; None where the tenant turned self-scheduling off, the
    function has no signer or the tenant no public address, or no appointment type satisfies what is due.
    For an SMS, also None unless the tenant wants it there and its address is short enough."""
    settings = ctx.config.self_scheduling
    kind = ctx.config.recall_visit_type(cycle.recall_types)
    if not settings.enabled or ctx.links is None or not ctx.public_url or kind is None:
        return None
    if sms and not sms_links(ctx):
        return None
    link_id = _link_id(ctx, f"book/{cycle.patient_id}/{cycle.cycle_id}")
    now = clock.now()
    ctx.tables.booking_links.issue(BookingLink(
        link_id=link_id, patient_id=cycle.patient_id, cycle_id=cycle.cycle_id, clinic_id=cycle.clinic_id,
        appointment_type=kind.appointment_type, issued_at=now, valid_until=now + timedelta(days=settings.link_days),
        form_key=secrets.token_urlsafe(24)))
    return f"{ctx.public_url.rstrip('/')}{BOOKING_LINK_PATH}{link_id}"


def sms_links(ctx: TenantContext) -> bool:
    """Whether an SMS may carry a patient's link: the tenant wants it there and its address is short (X6)."""
    settings = ctx.config.self_scheduling
    return settings.in_sms and bool(ctx.public_url) and len(str(ctx.public_url).rstrip("/")) <= SMS_LINK_BASE_MAX


def appointment_url(ctx: TenantContext, appointment: Appointment, sms: bool = False) -> str | None:
    """An appointment's link, for its notices: the patient confirms or cancels it until it starts. None where
    the tenant turned self-scheduling off or the function has no signer or the tenant no address; for an SMS,
    also where `sms_links` says no."""
    if not ctx.config.self_scheduling.enabled or ctx.links is None or not ctx.public_url:
        return None
    if sms and not sms_links(ctx):
        return None
    link_id = _link_id(ctx, f"appointment/{appointment.patient_id}/{appointment.appointment_id}")
    ctx.tables.booking_links.issue(BookingLink(
        link_id=link_id, purpose=LinkPurpose.APPOINTMENT, patient_id=appointment.patient_id,
        clinic_id=appointment.clinic_id, appointment_type=appointment.appointment_type, issued_at=clock.now(),
        valid_until=appointment.starts_at, form_key=secrets.token_urlsafe(24), appointment_id=appointment.appointment_id))
    return f"{ctx.public_url.rstrip('/')}{BOOKING_LINK_PATH}{link_id}"


def link_id_for(ctx: TenantContext, subject: str) -> str:
    """120 bits of the tenant key's HMAC of what the link is for: the same for the same subject, unguessable."""
    return _link_id(ctx, subject)


def _link_id(ctx: TenantContext, subject: str) -> str:
    assert ctx.links is not None
    return base64.urlsafe_b64encode(ctx.links.sign(subject.encode())[:LINK_ID_BYTES]).decode()


def link_id_from(token: str) -> str | None:
    """The id a URL's last part names, if it has a link id's shape (anything else is not looked up)."""
    if len(token) != LINK_ID_LENGTH or not all(c.isascii() and (c.isalnum() or c in "-_") for c in token):
        return None
    return token
