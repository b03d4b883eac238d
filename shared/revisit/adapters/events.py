"""The tenant's EventBridge bus: appointment changes for integrations and the other workflows."""

from __future__ import annotations

import json
from typing import Any

from revisit.errors import TransientError
from revisit.topology import EVENTS_SOURCE as SOURCE


class EventBridgePublisher:
    def __init__(self, client: Any, bus_name: str) -> None:
        self._client = client
        self._bus = bus_name

    def publish(self, detail_type: str, detail: dict) -> None:
        response = self._client.put_events(Entries=[{
            "Source": SOURCE, "DetailType": detail_type, "Detail": json.dumps(detail, default=str),
            "EventBusName": self._bus}])
        if response.get("FailedEntryCount"):
            raise TransientError(f"event {detail_type} not accepted: {response['Entries'][0].get('ErrorCode')}")
