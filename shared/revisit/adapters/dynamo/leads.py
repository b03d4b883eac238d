"""Referral leads and their timelines (F1-F11), in the patient's partition.

Every change is a whole-lead write on condition of the version read, in one transaction with its timeline
entry: two changes racing (a late event and a call outcome) cannot both apply; the loser reads again."""

from __future__ import annotations

import uuid
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from revisit.adapters import dynamo_keys as keys
from revisit.adapters.dynamo.items import from_item, query_prefix, to_item, translated_errors
from revisit.errors import Conflict, NotFound, TransientError
from revisit.models.entities import Lead, LeadEntry


def _lead_item(lead: Lead) -> dict[str, Any]:
    item = keys.lead(lead.patient_id, lead.lead_id) | to_item(lead)
    item |= keys.lead_month_entry(lead.clinic_id, lead.ordered_month, lead.ordered_at, lead.lead_id)
    if not lead.stage.is_final:
        item |= keys.open_lead_entry(lead.clinic_id, lead.stage.value, lead.due_date, lead.lead_id)
    return item


def _entry_item(lead: Lead, entry: LeadEntry) -> dict[str, Any]:
    return keys.lead_entry(lead.patient_id, lead.lead_id, entry.at, uuid.uuid4().hex[:8]) | to_item(entry)


def timeline_order(entry: LeadEntry) -> tuple:
    """Time, then the lead's version when it was written (a change carries the version it made, a no-op the
    version it saw), then the change before the no-op: several things happen within one instant."""
    return entry.at, entry.sequence, not entry.applied


class LeadRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    def create(self, lead: Lead, entry: LeadEntry) -> bool:
        """The lead, its id's pointer and its first timeline entry; False if the lead exists already."""
        writes = [
            {"Put": {"TableName": self._table.name, "Item": _lead_item(lead),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": self._table.name,  # the id is the order's: once, whatever the patient
                     "Item": keys.lead_pointer(lead.lead_id) | {"patient_id": lead.patient_id},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": self._table.name, "Item": _entry_item(lead, entry)}},
        ]
        try:
            with translated_errors("lead", lead.lead_id):
                self._table.meta.client.transact_write_items(TransactItems=writes)
        except Conflict:
            return False
        return True

    def _patient_of(self, lead_id: str) -> str:
        item = self._table.get_item(Key=keys.lead_pointer(lead_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound("lead", lead_id)
        return item["patient_id"]

    def get(self, lead_id: str) -> Lead:
        item = self._table.get_item(Key=keys.lead(self._patient_of(lead_id), lead_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound("lead", lead_id)
        return from_item(Lead, item)

    def timeline(self, lead_id: str) -> tuple[Lead, list[LeadEntry]]:
        items = query_prefix(self._table, self._patient_of(lead_id), keys.lead_prefix(lead_id))
        lead_sk = keys.lead_prefix(lead_id)
        leads = [from_item(Lead, i) for i in items if i[keys.SK] == lead_sk]
        if not leads:
            raise NotFound("lead", lead_id)
        entries = [from_item(LeadEntry, i) for i in items if i[keys.SK] != lead_sk]
        return leads[0], sorted(entries, key=timeline_order)

    def for_patient(self, patient_id: str) -> list[Lead]:
        items = query_prefix(self._table, patient_id, keys.leads_prefix())
        return [from_item(Lead, i) for i in items if i[keys.SK].count("#") == 1]

    def change(self, read: Lead, changed: Lead, entry: LeadEntry) -> bool:
        """Writes `changed` (its version one above `read`'s) with its timeline entry, on condition that the
        stored lead is still at `read`'s version; False if it moved meanwhile."""
        writes = [
            {"Put": {"TableName": self._table.name, "Item": _lead_item(changed),
                     "ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": read.version}}},
            {"Put": {"TableName": self._table.name, "Item": _entry_item(changed, entry)}},
        ]
        try:
            self._table.meta.client.transact_write_items(TransactItems=writes)
        except ClientError as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                return False
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                raise TransientError(f"lead {read.lead_id}: {reasons}") from None
            raise
        return True

    def record(self, lead: Lead, entry: LeadEntry) -> None:
        """A timeline entry that changed nothing (a late or repeated event): kept for the record."""
        with translated_errors("lead", lead.lead_id):
            self._table.put_item(Item=_entry_item(lead, entry))

    def open_in_stage(self, clinic_id: str, stage: str, limit: int = 200) -> list[Lead]:
        """A clinic's open leads in one stage, earliest due first."""
        page = self._table.query(IndexName=keys.QUEUE_INDEX, Limit=limit,
                                 KeyConditionExpression=Key("queue_pk").eq(keys.open_leads_partition(clinic_id, stage)))
        return [from_item(Lead, i) for i in page.get("Items", [])]

    def ordered_in_month(self, clinic_id: str, month: str) -> list[Lead]:
        leads, start = [], None
        while True:
            kwargs: dict[str, Any] = {"IndexName": keys.LEAD_MONTH_INDEX, "KeyConditionExpression":
                                      Key("month_pk").eq(keys.lead_month_partition(clinic_id, month))}
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = self._table.query(**kwargs)
            leads += [from_item(Lead, i) for i in page.get("Items", [])]
            start = page.get("LastEvaluatedKey")
            if not start:
                return leads

