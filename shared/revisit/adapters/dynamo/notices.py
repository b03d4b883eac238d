"""Once-only markers for staff notices (the administrator's nightly summary)."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr

from revisit.adapters import dynamo_keys as keys
from revisit.adapters.dynamo.items import translated_errors
from revisit.errors import Conflict


class StaffNoticeRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    def claim_once(self, kind: str, key: str) -> bool:
        """True the first time this notice (of this kind, for this key) is claimed, False ever after."""
        marker = keys.notice(kind, key)
        try:
            with translated_errors("notice", f"{kind}/{key}"):
                self._table.put_item(Item=marker, ConditionExpression=Attr(keys.PK).not_exists())
        except Conflict:
            return False
        return True
