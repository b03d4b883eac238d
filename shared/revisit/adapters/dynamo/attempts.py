"""The communication log (R24), which is also the send ledger: one row per patient, cycle, step and channel."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr

from revisit.adapters import dynamo_keys as keys
from revisit.adapters.dynamo.items import from_item, query_prefix, to_item, translated_errors
from revisit.errors import Conflict
from revisit.models.entities import AttemptOutcome, CommunicationAttempt


class AttemptRepository:
    """R24: the communication log, which is also the send ledger (one row per patient, cycle, step, channel)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def claim(self, attempt: CommunicationAttempt) -> CommunicationAttempt | None:
        """Writes the row before anything is sent. Returns None if this call owns the send,
        or the row already there (this exact send was claimed before: do not send again)."""
        key = keys.attempt(attempt.patient_id, attempt.cycle_id, attempt.step, attempt.channel.value)
        try:
            with translated_errors("attempt", key[keys.SK]):
                self._table.put_item(Item=key | to_item(attempt), ConditionExpression=Attr(keys.PK).not_exists())
        except Conflict:
            existing = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
            return from_item(CommunicationAttempt, existing) if existing else None
        return None

    def record(self, attempt: CommunicationAttempt) -> None:
        key = keys.attempt(attempt.patient_id, attempt.cycle_id, attempt.step, attempt.channel.value)
        with translated_errors("attempt", key[keys.SK]):
            self._table.put_item(Item=key | to_item(attempt))

    def mark_unconfirmed(self, attempt: CommunicationAttempt, detail: str) -> bool:
        """A claim left in SENDING by a try that died: it becomes UNCONFIRMED, once (True for the caller that
        changed it, False if another try did already)."""
        key = keys.attempt(attempt.patient_id, attempt.cycle_id, attempt.step, attempt.channel.value)
        try:
            with translated_errors("attempt", key[keys.SK]):
                self._table.update_item(Key=key, UpdateExpression="SET outcome = :u, detail = :d",
                                        ConditionExpression=Attr("outcome").eq(AttemptOutcome.SENDING.value),
                                        ExpressionAttributeValues={":u": AttemptOutcome.UNCONFIRMED.value, ":d": detail})
        except Conflict:
            return False
        return True

    def release(self, attempt: CommunicationAttempt) -> None:
        """Gives up a claim after a send that certainly did not happen (throttled), so a retry may send."""
        key = keys.attempt(attempt.patient_id, attempt.cycle_id, attempt.step, attempt.channel.value)
        with translated_errors("attempt", key[keys.SK]):
            self._table.delete_item(Key=key, ConditionExpression=Attr("outcome").eq(AttemptOutcome.SENDING.value))

    def for_patient(self, patient_id: str) -> list[CommunicationAttempt]:
        return [
            from_item(CommunicationAttempt, i) for i in query_prefix(self._table, patient_id, keys.attempts_prefix())
        ]
