"""What every DynamoDB repository shares: items to and from models, error codes to domain errors, paging."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from pydantic import BaseModel, TypeAdapter

from revisit.adapters import dynamo_keys as keys
from revisit.errors import Conflict, TransientError

M = TypeVar("M", bound=BaseModel)
_TRANSIENT = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}

@contextmanager
def translated_errors(kind: str, key: str) -> Iterator[None]:
    """DynamoDB error codes become domain errors, so nothing above this layer reads botocore strings."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ConditionalCheckFailedException":
            raise Conflict(f"{kind} {key} changed or is in another state") from None
        if code == "TransactionCanceledException":
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if any(r in _TRANSIENT or r == "TransactionConflict" for r in reasons):
                raise TransientError(f"{kind} {key}: {code} {reasons}") from None
            raise Conflict(f"{kind} {key} changed or is in another state ({reasons})") from None
        if code in _TRANSIENT:
            raise TransientError(f"{kind} {key}: {code}") from None
        raise


@functools.cache
def _datetime_adapter() -> TypeAdapter[datetime]:
    return TypeAdapter(datetime)  # built when first used: building it at import costs every cold start


def stored_datetime(moment: datetime) -> str:
    """A datetime as `to_item` stores it (pydantic writes UTC as 'Z'): what a condition must compare with."""
    return _datetime_adapter().dump_python(moment, mode="json")


def to_item(model: BaseModel) -> dict[str, Any]:
    return json.loads(model.model_dump_json(exclude_none=True), parse_float=Decimal)


def from_item(model: type[M], item: dict[str, Any]) -> M:
    """Keys, index attributes and derived attributes (the due date kept for the index) are not the model's."""
    return model.model_validate({k: plain(v) for k, v in item.items() if k in model.model_fields})


def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def encode_token(last_key: dict | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(last_key).encode()).decode() if last_key else None


def decode_token(token: str | None) -> dict | None:
    return json.loads(base64.urlsafe_b64decode(token.encode())) if token else None


def count(table: Any, **query: Any) -> int:
    total, start = 0, None
    while True:
        page = table.query(Select="COUNT", **query, **({"ExclusiveStartKey": start} if start else {}))
        total += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return total


def query_prefix(table: Any, patient_id: str, prefix: str) -> list[dict]:
    items, start = [], None
    while True:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key(keys.PK).eq(keys.patient_partition(patient_id))
            & Key(keys.SK).begins_with(prefix),
            "ConsistentRead": True,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = table.query(**kwargs)
        items += page.get("Items", [])
        start = page.get("LastEvaluatedKey")
        if not start:
            return items
