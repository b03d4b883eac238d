"""The send ledger's DynamoDB rows (services/delivery.py is the one mechanism over them): a row per send,
claimed with a conditional write before anything is sent. Patients' rows are their communication log
(attempts.py); staff notices have rows of their own (notices.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from boto3.dynamodb.conditions import Attr
from pydantic import BaseModel

from revisit.adapters import dynamo_keys as keys
from revisit.adapters.dynamo.items import from_item, to_item, translated_errors
from revisit.errors import Conflict
from revisit.models.entities import AttemptOutcome

Entry = TypeVar("Entry", bound=BaseModel)


class DynamoLedger(Generic[Entry]):
    def __init__(self, table: Any, model: type[Entry], key_of: Callable[[Entry], dict[str, str]]) -> None:
        self._table = table
        self._model = model
        self._key_of = key_of

    def claim(self, entry: Entry) -> Entry | None:
        """Writes the row before anything is sent. None if this call owns the send, else the row already
        there (this exact send was claimed before: do not send again)."""
        key = self._key_of(entry)
        try:
            with translated_errors("ledger", key[keys.SK]):
                self._table.put_item(Item=key | to_item(entry), ConditionExpression=Attr(keys.PK).not_exists())
        except Conflict:
            existing = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
            return from_item(self._model, existing) if existing else None
        return None

    def record(self, entry: Entry) -> None:
        key = self._key_of(entry)
        with translated_errors("ledger", key[keys.SK]):
            self._table.put_item(Item=key | to_item(entry))

    def mark_unconfirmed(self, entry: Entry, detail: str) -> bool:
        """A claim left SENDING by a try that died becomes UNCONFIRMED, once (True for the one caller that
        changed it)."""
        key = self._key_of(entry)
        try:
            with translated_errors("ledger", key[keys.SK]):
                self._table.update_item(Key=key, UpdateExpression="SET outcome = :u, detail = :d",
                                        ConditionExpression=Attr("outcome").eq(AttemptOutcome.SENDING.value),
                                        ExpressionAttributeValues={":u": AttemptOutcome.UNCONFIRMED.value, ":d": detail})
        except Conflict:
            return False
        return True

    def release(self, entry: Entry) -> None:
        """Gives up a claim after a send that certainly did not happen (throttled), so a retry may send.
        Conflict if the row is no longer a claim in progress."""
        key = self._key_of(entry)
        with translated_errors("ledger", key[keys.SK]):
            self._table.delete_item(Key=key, ConditionExpression=Attr("outcome").eq(AttemptOutcome.SENDING.value))
