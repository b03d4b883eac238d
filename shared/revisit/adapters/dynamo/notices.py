"""Staff notices (the lead dentist's alert, the administrator's summary): their own send ledger rows."""

from __future__ import annotations

from typing import Any

from revisit.adapters import dynamo_keys as keys
from revisit.adapters.dynamo.ledger import DynamoLedger
from revisit.models.entities import StaffNotice


class StaffNoticeRepository(DynamoLedger[StaffNotice]):
    def __init__(self, table: Any) -> None:
        super().__init__(table, StaffNotice, lambda notice: keys.notice(notice.kind, notice.key))
