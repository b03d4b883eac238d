"""What the emulated SNS and SES received: every SMS and email, simple or raw (with attachments)."""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes, policy

from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from revisit.offline.stack import ACCOUNT, REGION


@dataclass(frozen=True)
class SentEmail:
    message_id: str
    to: list[str]
    subject: str
    body: str
    attachments: list[str]


def sent_sms() -> list[tuple[str, str, str]]:
    """(message id, phone, text) in sending order."""
    return [(message_id, phone, text) for message_id, (phone, text) in sns_backends[ACCOUNT][REGION].sms_messages.items()]


def sent_emails() -> list[SentEmail]:
    emails = []
    for message in ses_backends[ACCOUNT][REGION].sent_messages:
        raw = getattr(message, "raw_data", None)
        if raw is None:
            emails.append(SentEmail(message.id, list(message.destinations.get("ToAddresses", [])),
                                    getattr(message, "subject", ""), getattr(message, "body", ""), []))
            continue
        parsed = message_from_bytes(raw if isinstance(raw, bytes) else raw.encode(), policy=policy.default)
        html_part = parsed.get_body(preferencelist=("html", "plain"))
        destinations = message.destinations if isinstance(message.destinations, list) else \
            message.destinations.get("ToAddresses", [])
        emails.append(SentEmail(message.id, list(destinations) or [str(parsed["To"])], str(parsed["Subject"]),
                                html_part.get_content() if html_part else "",
                                [part.get_filename() for part in parsed.iter_attachments()]))
    return emails
