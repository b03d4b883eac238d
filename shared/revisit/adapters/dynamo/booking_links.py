"""Patients' self-booking links (X11), one item each, found by the link's id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from boto3.dynamodb.conditions import Attr

from revisit.adapters import dynamo_keys as keys
from revisit.adapters.dynamo.items import from_item, to_item, translated_errors
from revisit.errors import Conflict
from revisit.models.entities import Appointment, BookingLink

KEPT_AFTER_EXPIRY = timedelta(days=30)
"""An expired link's item stays this long, so its page says 'expired' (with the clinic's phone), not 'unknown'."""


class BookingLinkRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    def issue(self, link: BookingLink) -> BookingLink:
        """Creates the link, or extends the one a cycle or appointment already has (same id): its form key,
        first issue and booking stay, so a page open on the patient's phone keeps working."""
        fields = to_item(link)
        kept = {"issued_at", "form_key"}  # set once
        names = {f"#{i}": name for i, name in enumerate(n for n in fields if n != "link_id")}
        values = {f":{i}": fields[name] for i, name in enumerate(n for n in fields if n != "link_id")}
        clauses = [f"#{i} = if_not_exists(#{i}, :{i})" if name in kept else f"#{i} = :{i}"
                   for i, name in enumerate(n for n in fields if n != "link_id")]
        names["#ttl"], values[":ttl"] = keys.TTL_ATTRIBUTE, int((link.valid_until + KEPT_AFTER_EXPIRY).timestamp())
        with translated_errors("booking link", link.link_id):
            stored = self._table.update_item(
                Key=keys.booking_link(link.link_id), ReturnValues="ALL_NEW",
                UpdateExpression="SET " + ", ".join([*clauses, "#ttl = :ttl"]),
                ExpressionAttributeNames=names, ExpressionAttributeValues=values)
        return from_item(BookingLink, stored["Attributes"] | {"link_id": link.link_id})

    def get(self, link_id: str) -> BookingLink | None:
        with translated_errors("booking link", link_id):
            item = self._table.get_item(Key=keys.booking_link(link_id), ConsistentRead=True).get("Item")
        return from_item(BookingLink, item | {"link_id": link_id}) if item else None

    def booked(self, link: BookingLink, appointment: Appointment) -> bool:
        """Records the booking made from the page (the link is kept until 30 days after the visit); False if
        another booking from it was recorded first."""
        kept_until = int((max(link.valid_until, appointment.starts_at) + KEPT_AFTER_EXPIRY).timestamp())
        try:
            with translated_errors("booking link", link.link_id):
                self._table.update_item(Key=keys.booking_link(link.link_id),
                                        UpdateExpression="SET appointment_id = :a, #ttl = :ttl",
                                        ExpressionAttributeNames={"#ttl": keys.TTL_ATTRIBUTE},
                                        ExpressionAttributeValues={":a": appointment.appointment_id, ":ttl": kept_until},
                                        ConditionExpression=Attr(keys.PK).exists() & Attr("appointment_id").not_exists())
        except Conflict:
            return False
        return True


class UnsubscribeLinkRepository:
    """The one-click unsubscribe links (X5): an id, the patient and the kind of message it refuses. Kept as
    long as the patient's record: an old email's link must still work (RFC 8058)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def save(self, link_id: str, patient_id: str, kind: str) -> None:
        with translated_errors("unsubscribe link", link_id):
            self._table.put_item(Item=keys.unsubscribe_link(link_id) | {"patient_id": patient_id, "kind": kind})

    def target(self, link_id: str) -> tuple[str, str] | None:
        """(patient id, kind), or None for an id no email carried."""
        with translated_errors("unsubscribe link", link_id):
            item = self._table.get_item(Key=keys.unsubscribe_link(link_id), ConsistentRead=True).get("Item")
        return (item["patient_id"], item["kind"]) if item else None
