"""The communication log (R24), which is also the patients' send ledger: one row per patient, ledger id
(a recall cycle, an appointment at its start time, an inbound message), step and channel."""

from __future__ import annotations

from typing import Any

from revisit.adapters import dynamo_keys as keys
from revisit.adapters.dynamo.items import from_item, query_prefix
from revisit.adapters.dynamo.ledger import DynamoLedger
from revisit.models.entities import CommunicationAttempt


def _key(attempt: CommunicationAttempt) -> dict[str, str]:
    return keys.attempt(attempt.patient_id, attempt.cycle_id, attempt.step, attempt.channel.value)


class AttemptRepository(DynamoLedger[CommunicationAttempt]):
    def __init__(self, table: Any) -> None:
        super().__init__(table, CommunicationAttempt, _key)

    def for_patient(self, patient_id: str) -> list[CommunicationAttempt]:
        return [from_item(CommunicationAttempt, i)
                for i in query_prefix(self._table, patient_id, keys.attempts_prefix())]
