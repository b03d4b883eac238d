"""One-click unsubscribe (X5, RFC 8058): recall and marketing emails carry a signed link to the patient's
own refusal of that kind of message. Opening the link shows a page and changes nothing (mail scanners
open links); a POST to it (the mail client's one-click, or the page's button) records the refusal once, on
the patient's record and in their communication log."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from revisit import clock
from revisit.errors import NotFound
from revisit.models.common import Channel, MessageKind
from revisit.models.entities import AttemptOutcome, CommunicationAttempt, Patient
from revisit.services.context import TenantContext
from revisit.services.patients import change_patient
from revisit.services.replies import INBOUND

LINK_PATH = "/unsubscribe/"


@dataclass(frozen=True)
class UnsubscribeLink:
    patient: Patient
    kind: MessageKind

    @property
    def done(self) -> bool:
        return self.kind in self.patient.unsubscribed


def unsubscribe_url(ctx: TenantContext, patient_id: str, kind: MessageKind) -> str | None:
    """None where the function has no signer or the tenant no public address (then no link is offered)."""
    if ctx.links is None or not ctx.public_url:
        return None
    message = f"{patient_id}/{kind.value}".encode()
    return f"{ctx.public_url.rstrip('/')}{LINK_PATH}{_b64(message)}.{_b64(ctx.links.sign(message))}"


def read_link(ctx: TenantContext, token: str) -> UnsubscribeLink:
    """The patient and kind a token names; NotFound for anything not signed by the tenant's key."""
    unknown = NotFound("link", "-")
    try:
        encoded, signature = token.split(".", 1)
        message, mac = _unb64(encoded), _unb64(signature)
        patient_id, kind = message.decode().split("/", 1)
        kind = MessageKind(kind)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise unknown from None
    if ctx.links is None or not ctx.links.verify(message, mac):
        raise unknown
    try:
        return UnsubscribeLink(ctx.tables.patients.get(patient_id), kind)
    except NotFound:
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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
