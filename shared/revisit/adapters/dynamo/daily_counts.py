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

    def set(self, clinic_id: str, day: date, name: str, value: int) -> None:
        """A day's figure taken once (the night's count of inactive patients): a re-run writes the same."""
        with translated_errors("daily counts", clinic_id):
            self._table.update_item(Key=keys.daily_counts(clinic_id, day), UpdateExpression="SET #n = :v",
                                    ExpressionAttributeNames={"#n": name}, ExpressionAttributeValues={":v": value})

    def day(self, clinic_id: str, day: date) -> Counter[str]:
        return self.period(clinic_id, day, day)

    def week(self, clinic_id: str, last_day: date) -> Counter[str]:
        """The seven days ending on `last_day`, added up."""
        return self.period(clinic_id, last_day - timedelta(days=6), last_day)

    def period(self, clinic_id: str, first: date, last_day: date) -> Counter[str]:
        """The days from `first` to `last_day`, added up (a month: at most 31 items, one Query)."""
        with translated_errors("daily counts", clinic_id):
            page = self._table.query(
                KeyConditionExpression=Key(keys.PK).eq(keys.daily_counts_partition(clinic_id))
                & Key(keys.SK).between(keys.daily_counts(clinic_id, first)[keys.SK],
                                       keys.daily_counts(clinic_id, last_day)[keys.SK]), ConsistentRead=True)
        totals: Counter[str] = Counter()
        for item in page.get("Items", []):
            totals.update({name: int(value) for name, value in item.items() if name not in (keys.PK, keys.SK)})
        return totals
