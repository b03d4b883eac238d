"""Integrator credentials (hashed secrets), one item each."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr

from revisit.adapters import dynamo_keys as keys
from revisit.adapters.dynamo.items import from_item, to_item, translated_errors
from revisit.errors import Conflict, NotFound
from revisit.models.entities import IntegratorCredential


class CredentialRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    def add(self, credential: IntegratorCredential) -> None:
        """Raises Conflict if the key id exists already."""
        with translated_errors("credential", credential.key_id):
            self._table.put_item(Item=keys.credential(credential.key_id) | to_item(credential),
                                 ConditionExpression=Attr(keys.PK).not_exists())

    def get(self, key_id: str) -> IntegratorCredential | None:
        with translated_errors("credential", key_id):
            item = self._table.get_item(Key=keys.credential(key_id), ConsistentRead=True).get("Item")
        return from_item(IntegratorCredential, item | {"key_id": key_id}) if item else None

    def revoke(self, key_id: str) -> None:
        try:
            with translated_errors("credential", key_id):
                self._table.update_item(Key=keys.credential(key_id), UpdateExpression="SET revoked = :t",
                                        ExpressionAttributeValues={":t": True},
                                        ConditionExpression=Attr(keys.PK).exists())
        except Conflict:
            raise NotFound("credential", key_id) from None
