"""The audit log of patients' records viewed in the staff console (issue 15), a partition per UTC day."""

from __future__ import annotations

import uuid
from datetime import UTC, date, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key

from revisit.adapters import dynamo_keys as keys
from revisit.adapters.dynamo.items import from_item, to_item, translated_errors
from revisit.models.entities import RecordView

KEPT = timedelta(days=6 * 365)
"""HIPAA asks six years of access records."""


class AuditRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    def record(self, view: RecordView) -> None:
        at = view.at.astimezone(UTC)
        with translated_errors("record view", view.patient_id):
            key = keys.record_view(at.date(), at, view.staff_id, view.patient_id, uuid.uuid4().hex[:8])
            self._table.put_item(Item=key | to_item(view)
                                 | {keys.TTL_ATTRIBUTE: int((at + KEPT).timestamp())})

    def on(self, day: date, limit: int = 10_000) -> list[RecordView]:
        """A UTC day's views, oldest first (every page of the day's partition, up to `limit`)."""
        items: list[dict] = []
        start = None
        with translated_errors("record views", day.isoformat()):
            while len(items) < limit:
                page = self._table.query(KeyConditionExpression=Key(keys.PK).eq(keys.record_views_partition(day)),
                                         **({"ExclusiveStartKey": start} if start else {}))
                items += page["Items"]
                start = page.get("LastEvaluatedKey")
                if not start:
                    break
        return [from_item(RecordView, item) for item in items[:limit]]
