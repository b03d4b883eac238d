"""The communication log (R24), which is also the patients' send ledger: one row per patient, ledger id
(a recall cycle, an appointment at its start time, an inbound message), step and channel."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from revisit.adapters import dynamo_keys as keys
from revisit.adapters.dynamo.items import from_item, query_prefix, to_item, translated_errors
from revisit.adapters.dynamo.ledger import DynamoLedger
from revisit.errors import TransientError
from revisit.models.entities import CommunicationAttempt


def _key(attempt: CommunicationAttempt) -> dict[str, str]:
    return keys.attempt(attempt.patient_id, attempt.cycle_id, attempt.step, attempt.channel.value)


class AttemptRepository(DynamoLedger[CommunicationAttempt]):
    def __init__(self, table: Any) -> None:
        super().__init__(table, CommunicationAttempt, _key)

    def log_reply(self, rows: list[CommunicationAttempt], sms_consent: bool | None = None,
                  email_consent: bool | None = None) -> bool:
        """A patient's reply, logged on each file it reached, with the consent it asks for (STOP, START),
        in one transaction: the change and its log happen together or not at all. False if this reply was
        logged before (then nothing changes: a late duplicate of a STOP never undoes a later START)."""
        writes: list[dict[str, Any]] = [
            {"Put": {"TableName": self._table.name, "Item": _key(row) | to_item(row),
                     "ConditionExpression": "attribute_not_exists(pk)"}} for row in rows]
        consent = {name: value for name, value in (("sms_consent", sms_consent), ("email_consent", email_consent))
                   if value is not None}
        if consent:
            assignments = ", ".join(f"{name} = :{name}" for name in consent)
            writes += [{"Update": {
                "TableName": self._table.name, "Key": keys.patient(patient_id),
                "UpdateExpression": f"SET {assignments}, {keys.BUMP_VERSION}",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": {f":{name}": value for name, value in consent.items()} | {":zero": 0, ":one": 1}}}
                for patient_id in sorted({row.patient_id for row in rows})]
        try:
            self._table.meta.client.transact_write_items(TransactItems=writes)
        except ClientError as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in reasons[:len(rows)]:
                return False  # a row exists: this reply was logged before
            if "ConditionalCheckFailed" in reasons:  # a patient left meanwhile: the retry reads the phone again
                raise TransientError(f"reply {rows[0].step}: a patient it reached no longer exists") from None
            with translated_errors("reply", rows[0].step):
                raise
        return True

    def for_patient(self, patient_id: str) -> list[CommunicationAttempt]:
        return [from_item(CommunicationAttempt, i)
                for i in query_prefix(self._table, patient_id, keys.attempts_prefix())]
