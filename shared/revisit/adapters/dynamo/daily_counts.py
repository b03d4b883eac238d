"""A clinic's recall day by day: one item per clinic and local day, counters added atomically (the
nightly report reads a week of them: what was booked, what was opened, the conversion)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key

from revisit.adapters import dynamo_keys as keys
from revisit.adapters.dynamo.items import translated_errors


class DailyCountRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    def add(self, clinic_id: str, day: date, name: str, amount: int = 1) -> None:
        with translated_errors("daily counts", clinic_id):
            self._table.update_item(Key=keys.daily_counts(clinic_id, day), UpdateExpression="ADD #n :a",
                                    ExpressionAttributeNames={"#n": name}, ExpressionAttributeValues={":a": amount})

    def week(self, clinic_id: str, last_day: date) -> Counter[str]:
        """The seven days ending on `last_day`, added up."""
        first = last_day - timedelta(days=6)
        with translated_errors("daily counts", clinic_id):
            page = self._table.query(
                KeyConditionExpression=Key(keys.PK).eq(keys.daily_counts_partition(clinic_id))
                & Key(keys.SK).between(keys.daily_counts(clinic_id, first)[keys.SK],
                                       keys.daily_counts(clinic_id, last_day)[keys.SK]), ConsistentRead=True)
        totals: Counter[str] = Counter()
        for item in page.get("Items", []):
            totals.update({name: int(value) for name, value in item.items() if name not in (keys.PK, keys.SK)})
        return totals
