"""One-click unsubscribe (X5, RFC 8058): recall and marketing emails carry an unguessable link to the patient's
own refusal of that kind of message. Opening the link shows a page and changes nothing (mail scanners
open links); a POST to it (the mail client's one-click, or the page's button) records the refusal once, on
the patient's record and in their communication log."""

from __future__ import annotations

from dataclasses import dataclass

from revisit import clock
from revisit.errors import NotFound
from revisit.models.common import Channel, MessageKind
from revisit.models.entities import AttemptOutcome, CommunicationAttempt, Patient
from revisit.services.booking_links import link_id_for, link_id_from
from revisit.services.context import TenantContext
from revisit.services.patients import change_patient
from revisit.services.replies import INBOUND
from revisit.topology import UNSUBSCRIBE_LINK_PATH


@dataclass(frozen=True)
class UnsubscribeLink:
    patient: Patient
    kind: MessageKind

    @property
    def done(self) -> bool:
        return self.kind in self.patient.unsubscribed


def unsubscribe_url(ctx: TenantContext, patient_id: str, kind: MessageKind) -> str | None:
    """None where the function has no signer or the tenant no public address (then no link is offered). The
    URL carries only the link's id (120 bits of the tenant key's HMAC): no patient id, even encoded."""
    if ctx.links is None or not ctx.public_url:
        return None
    link_id = link_id_for(ctx, f"unsubscribe/{patient_id}/{kind.value}")
    ctx.tables.unsubscribe_links.save(link_id, patient_id, kind.value)
    return f"{ctx.public_url.rstrip('/')}{UNSUBSCRIBE_LINK_PATH}{link_id}"


def read_link(ctx: TenantContext, token: str) -> UnsubscribeLink:
    """The patient and kind a link names; NotFound for anything no email carried."""
    unknown = NotFound("link", "-")
    link_id = link_id_from(token)
    target = ctx.tables.unsubscribe_links.target(link_id) if link_id else None
    if target is None:
        raise unknown
    patient_id, kind = target
    try:
        return UnsubscribeLink(ctx.tables.patients.get(patient_id), MessageKind(kind))
    except (NotFound, ValueError):
        raise unknown from None


def unsubscribe(ctx: TenantContext, token: str) -> UnsubscribeLink:
    """Idempotent: a second click changes nothing and logs nothing."""
    link = read_link(ctx, token)
    if link.done:
        return link
    patient = change_patient(ctx, link.patient.patient_id, lambda stored: stored if link.kind in stored.unsubscribed
                             else stored.model_copy(update={"unsubscribed": [*stored.unsubscribed, link.kind]}))
    now = clock.now()
    ctx.tables.attempts.claim(CommunicationAttempt(
        patient_id=patient.patient_id, cycle_id=INBOUND, step=f"unsubscribe-{link.kind.value}-{now:%Y%m%d%H%M%S}",
        channel=Channel.EMAIL, outcome=AttemptOutcome.RECEIVED, at=now, language=patient.language,
        detail=f"one-click unsubscribe: no more {link.kind.value} messages"))
    return UnsubscribeLink(patient, link.kind)
