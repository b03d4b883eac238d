"""Patients' self-booking links (X11), one item each, found by the link's id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from boto3.dynamodb.conditions import Attr

from revisit.adapters import dynamo_keys as keys
from revisit.adapters.dynamo.items import from_item, to_item, translated_errors
from revisit.errors import Conflict
from revisit.models.entities import BookingLink

KEPT_AFTER_EXPIRY = timedelta(days=30)
"""An expired link's item stays this long, so its page says 'expired' (with the clinic's phone), not 'unknown'."""


class BookingLinkRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    def issue(self, link: BookingLink) -> BookingLink:
        """Creates the link, or extends the one a cycle already has (same id): its form key, first issue and
        booking stay, so a page open on the patient's phone keeps working."""
        fields = to_item(link)
        with translated_errors("booking link", link.link_id):
            stored = self._table.update_item(
                Key=keys.booking_link(link.link_id), ReturnValues="ALL_NEW",
                UpdateExpression="SET patient_id = :p, cycle_id = :c, clinic_id = :clinic, appointment_type = :t, "
                                 "valid_until = :v, issued_at = if_not_exists(issued_at, :i), "
                                 "form_key = if_not_exists(form_key, :k), #ttl = :ttl",
                ExpressionAttributeNames={"#ttl": keys.TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":p": fields["patient_id"], ":c": fields["cycle_id"], ":clinic": fields["clinic_id"],
                    ":t": fields["appointment_type"], ":v": fields["valid_until"], ":i": fields["issued_at"],
                    ":k": fields["form_key"], ":ttl": int((link.valid_until + KEPT_AFTER_EXPIRY).timestamp())})
        return from_item(BookingLink, stored["Attributes"] | {"link_id": link.link_id})

    def get(self, link_id: str) -> BookingLink | None:
        with translated_errors("booking link", link_id):
            item = self._table.get_item(Key=keys.booking_link(link_id), ConsistentRead=True).get("Item")
        return from_item(BookingLink, item | {"link_id": link_id}) if item else None

    def booked(self, link: BookingLink, appointment_id: str) -> bool:
        """Records the booking made from the page; False if another booking from it was recorded first."""
        try:
            with translated_errors("booking link", link.link_id):
                self._table.update_item(Key=keys.booking_link(link.link_id), UpdateExpression="SET appointment_id = :a",
                                        ExpressionAttributeValues={":a": appointment_id},
                                        ConditionExpression=Attr(keys.PK).exists() & Attr("appointment_id").not_exists())
        except Conflict:
            return False
        return True
