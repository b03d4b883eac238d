"""The outbox: every SMS and email the emulated SNS and SES received (the carrier's side), joined through the
send ledger (the attempt rows and staff notices, which carry the provider's message id) to what the message
was: its virtual send time, the clinic's local time, the patient and the kind (recall step, appointment
notice, answer to a reply, staff notice). Emails keep their raw MIME, attachments (the .ics) included.

Read by `revisit serve` (/_local/outbox, /_local/outbox.json) and written by the demo (outbox.jsonl/.html)."""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from boto3.dynamodb.conditions import Attr
from dateutil.parser import isoparse
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from revisit.adapters import dynamo_keys as keys
from revisit.domain.sms import sms_segments
from revisit.models.tenant import TenantConfig
from revisit.offline.stack import ACCOUNT, REGION

RECALL_LEDGER = re.compile(r"^\d{4}-\d{2}-\d{2}$")  # a recall cycle's id is its due date
ANSWERS_LEDGER = "answers"  # revisit.services.replies.ANSWERS: Revisit's answers to patients' replies
INBOUND_LEDGER = "inbound"  # the replies themselves (received, not sent)
PROFILE = keys.patient("-")[keys.SK]
NOTICE = keys.notice("", "")[keys.PK]


@dataclass(frozen=True)
class SentEmail:
    message_id: str
    to: list[str]
    subject: str
    body: str
    attachments: list[str]
    raw: str = ""
    """The MIME message as SES received it (raw sends), or as built from a simple send's parts."""
    attachment_parts: list[dict] = field(default_factory=list)


def sent_sms() -> list[tuple[str, str, str]]:
    """(message id, phone, text) in sending order."""
    return [(message_id, phone, text) for message_id, (phone, text) in sns_backends[ACCOUNT][REGION].sms_messages.items()]


def sent_message_ids() -> set[str]:
    """The ids of every SMS and email sent so far (cheap: no parsing)."""
    return (set(sns_backends[ACCOUNT][REGION].sms_messages)
            | {message.id for message in ses_backends[ACCOUNT][REGION].sent_messages})


def sent_emails() -> list[SentEmail]:
    emails = []
    for message in ses_backends[ACCOUNT][REGION].sent_messages:
        raw = getattr(message, "raw_data", None)
        if raw is None:  # a simple send: SES builds the MIME; moto keeps the subject and the HTML body
            destinations = list(message.destinations.get("ToAddresses", []))
            built = EmailMessage(policy=policy.SMTP)
            built["From"], built["To"], built["Subject"] = message.source, ", ".join(destinations), message.subject
            built.set_content(getattr(message, "body", ""), subtype="html")
            emails.append(SentEmail(message.id, destinations, getattr(message, "subject", ""), getattr(message, "body", ""),
                                    [], built.as_string()))
            continue
        raw_bytes = raw if isinstance(raw, bytes) else raw.encode()
        parsed = message_from_bytes(raw_bytes, policy=policy.default)
        html_part = parsed.get_body(preferencelist=("html", "plain"))
        destinations = message.destinations if isinstance(message.destinations, list) else \
            message.destinations.get("ToAddresses", [])
        parts = []
        for part in parsed.iter_attachments():
            content = part.get_payload(decode=True) or b""
            text = part.get_content_maintype() == "text"
            parts.append({"filename": part.get_filename(), "content_type": part.get_content_type(),
                          "content": content.decode(part.get_content_charset() or "utf-8", "replace") if text
                          else base64.b64encode(content).decode()})
        emails.append(SentEmail(message.id, list(dict.fromkeys(destinations)) or [str(parsed["To"])], str(parsed["Subject"]),
                                html_part.get_content() if html_part else "",
                                [part["filename"] for part in parts], raw_bytes.decode("utf-8", "replace"), parts))
    return emails


# --- the ledger side ------------------------------------------------------------------------------


def ledger_items(table: Any) -> list[dict]:
    """The rows that name a provider message id (attempts, staff notices): one filtered scan."""
    items, start = [], None
    while True:
        page = table.scan(FilterExpression=Attr("message_id").exists(),
                          **({"ExclusiveStartKey": start} if start else {}))
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def message_kind(ledger: str, step: str) -> str:
    """What a message is, from its ledger row: recall:<rung>, appointment:<notice>, reply-answer, staff:<kind>."""
    if RECALL_LEDGER.match(ledger):
        return f"recall:{step}"
    if ledger.startswith("appt-"):
        return f"appointment:{step}"
    if ledger == ANSWERS_LEDGER:
        return "reply-answer"
    return f"{ledger}:{step}"


@dataclass
class _Sent:
    at: datetime
    patient_id: str | None
    clinic_id: str | None
    kind: str
    ledger: str
    step: str
    language: str | None = None


def _utc(value: str) -> datetime:
    moment = isoparse(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _index(config: TenantConfig, items: Iterable[dict], table: Any) -> dict[str, _Sent]:
    """Provider message id -> what was sent (patients' clinics read from their profiles, once each)."""
    profiles = {item["pk"]: item for item in items if item.get("sk") == PROFILE}
    staff_clinic = {member.staff_id: member.clinic_id for member in config.staff}
    found: dict[str, _Sent] = {}
    for item in items:
        message_id = item.get("message_id")
        if not message_id:
            continue
        sk, pk = item["sk"], item["pk"]
        if sk.startswith(keys.attempts_prefix()):
            if item.get("cycle_id") == INBOUND_LEDGER:
                continue  # a patient's reply: its id is the carrier's, not a message Revisit sent
            if pk not in profiles and table is not None:
                profiles[pk] = table.get_item(Key={keys.PK: pk, keys.SK: PROFILE}).get("Item") or {}
            profile = profiles.get(pk) or {}
            found[message_id] = _Sent(_utc(item["at"]), item["patient_id"], profile.get("clinic_id"),
                                      message_kind(item["cycle_id"], item["step"]), item["cycle_id"], item["step"],
                                      item.get("language") or profile.get("language"))
        elif pk.startswith(NOTICE):
            kind = pk.removeprefix(NOTICE)
            staff_id = sk.rsplit("#", 1)[-1] if "#" in sk else None
            found[message_id] = _Sent(_utc(item["at"]), None, staff_clinic.get(staff_id), f"staff:{kind}", kind, sk)
    return found


def outbox_records(config: TenantConfig, table: Any = None, items: Iterable[dict] | None = None,
                   only: set[str] | None = None) -> list[dict]:
    """Every message sent, oldest first (virtual send time, then sending order). `items`: the table's rows
    if already read (the demo reads them all); else the ledger rows are scanned from `table`. `only`: these
    message ids."""
    rows = list(items) if items is not None else ledger_items(table)
    index = _index(config, rows, table)
    records: list[dict] = []
    for message_id, phone, text in sent_sms():
        if only is None or message_id in only:
            segments = sms_segments(text)
            records.append({**_common(config, index.get(message_id), "sms", message_id, phone),
                            "text": text, "encoding": segments.encoding, "segments": segments.segments})
    for email in sent_emails():
        if only is None or email.message_id in only:
            records.append({**_common(config, index.get(email.message_id), "email", email.message_id,
                                      ", ".join(email.to)),
                            "subject": email.subject, "body": email.body, "attachments": email.attachment_parts,
                            "raw": email.raw})
    # By send time; messages of one moment in a fixed order (channel, then provider id), call after call.
    return sorted(records, key=lambda r: (r["sent_at"] is None, r["sent_at"] or "", r["channel"], r["message_id"]))


def _common(config: TenantConfig, sent: _Sent | None, channel: str, message_id: str, to: str) -> dict:
    if sent is None:  # not sent through the ledger (nothing should be): shown, but unexplained
        return {"channel": channel, "message_id": message_id, "sent_at": None, "local_time": None, "time_zone": None,
                "clinic_id": None, "patient_id": None, "kind": None, "ledger": None, "step": None, "language": None,
                "to": to}
    zone = config.clinic(sent.clinic_id).time_zone if sent.clinic_id else config.time_zone
    return {"channel": channel, "message_id": message_id,
            "sent_at": sent.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "local_time": sent.at.astimezone(ZoneInfo(zone)).isoformat(), "time_zone": zone,
            "clinic_id": sent.clinic_id, "patient_id": sent.patient_id, "kind": sent.kind, "ledger": sent.ledger,
            "step": sent.step, "language": sent.language, "to": to}


# --- what a tester reads --------------------------------------------------------------------------


def write_outbox(out: Path, records: list[dict]) -> dict[str, int]:
    """outbox.jsonl (one message a line) and outbox.html."""
    with (out / "outbox.jsonl").open("w") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    (out / "outbox.html").write_text(outbox_html(records))
    return {"sms": sum(r["channel"] == "sms" for r in records), "email": sum(r["channel"] == "email" for r in records)}


def outbox_html(records: list[dict]) -> str:
    sms = sum(r["channel"] == "sms" for r in records)
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Revisit outbox</title><style>"
             "body{font-family:system-ui,Arial;margin:2em} .m{border:1px solid #ccd;border-radius:6px;padding:.6em;"
             "margin:.6em 0;max-width:56em} .h{color:#556;font-size:.85em} iframe{width:100%;height:22em;border:0}"
             "pre{white-space:pre-wrap;font-size:.8em;max-height:30em;overflow:auto}</style></head><body>",
             f"<h1>Outbox: {sms} SMS, {len(records) - sms} emails</h1>",
             "<p>Every message as the emulated SNS and SES received it, in virtual sending order "
             "(also as JSON: <code>/_local/outbox.json</code> on <code>revisit serve</code>).</p>"]
    for row in records:
        when = (f"{row['sent_at']} (clinic {row['local_time'][:16].replace('T', ' ')} {row['time_zone']})"
                if row["sent_at"] else "time unknown")
        who = f"patient {row['patient_id']}" if row["patient_id"] else "staff"
        head = f"{html.escape(when)} · {html.escape(who)} · {html.escape(row['kind'] or '?')} · {row['channel']}"
        if row["channel"] == "sms":
            parts.append(f"<div class='m'><div class='h'>{head} · to {html.escape(row['to'])} · {row['encoding']}, "
                         f"{row['segments']} segment(s)</div>{html.escape(row['text'])}</div>")
            continue
        attachments = "".join(f"<details><summary>{html.escape(a['filename'] or 'attachment')} "
                              f"({html.escape(a['content_type'])})</summary><pre>{html.escape(a['content'])}</pre></details>"
                              for a in row["attachments"])
        parts.append(f"<div class='m'><div class='h'>{head} · to {html.escape(row['to'])}</div>"
                     f"<b>{html.escape(row['subject'])}</b><iframe srcdoc=\"{html.escape(row['body'])}\"></iframe>"
                     f"{attachments}<details><summary>raw MIME</summary><pre>{html.escape(row['raw'])}</pre></details></div>")
    parts.append("</body></html>")
    return "\n".join(parts)
