"""The tenant's monthly SMS spend: one item a month, reserved with a conditional ADD before every send."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from revisit.adapters import dynamo_keys as keys
from revisit.adapters.dynamo.items import translated_errors
from revisit.errors import Conflict


class SmsSpendRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    def reserve(self, month: str, cost: Decimal, budget: Decimal | None) -> Decimal | None:
        if budget is not None and cost > budget:
            return None
        within = {} if budget is None else {
            "ConditionExpression": "attribute_not_exists(spent) OR spent <= :room",
            "ExpressionAttributeValues": {":cost": cost, ":room": budget - cost}}
        try:
            with translated_errors("sms spend", month):
                answer = self._table.update_item(
                    Key=keys.sms_spend(month), UpdateExpression="ADD spent :cost", ReturnValues="UPDATED_NEW",
                    **({"ExpressionAttributeValues": {":cost": cost}} | within))
        except Conflict:
            return None
        return Decimal(answer["Attributes"]["spent"])

    def release(self, month: str, cost: Decimal) -> None:
        with translated_errors("sms spend", month):
            self._table.update_item(Key=keys.sms_spend(month), UpdateExpression="ADD spent :back",
                                    ExpressionAttributeValues={":back": -cost})

    def spent(self, month: str) -> Decimal:
        with translated_errors("sms spend", month):
            item = self._table.get_item(Key=keys.sms_spend(month), ConsistentRead=True).get("Item")
        return Decimal(item["spent"]) if item else Decimal(0)
