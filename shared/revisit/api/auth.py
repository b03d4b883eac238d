"""Integrator credentials: `Authorization: Bearer rvk_<key id>_<secret>`. Each credential belongs to one
integrator and one tenant, is stored only as a SHA-256 of its 256-bit random secret (like a deploy
token: a slow KDF adds nothing to a secret with that much entropy), and can be revoked. The same check
runs in the Lambda authorizer on AWS and in `revisit serve` offline."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from revisit.adapters import dynamo_keys as keys

TOKEN = re.compile(r"^Bearer rvk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")
DEFAULT_RATE_PER_SECOND = 10


@dataclass(frozen=True)
class Integrator:
    key_id: str
    name: str
    tenant_id: str
    rate_per_second: int


class Unauthorized(Exception):
    """401: no credential, or not one we issued."""


class Forbidden(Exception):
    """403: a valid credential for another tenant, or a revoked one."""


def usage_key(key_id: str) -> str:
    """The API Gateway API key value for an integrator (its usage plan's throttle); not a secret: the
    authorizer answers it as usageIdentifierKey once the credential checks out. At least 20 characters."""
    return f"revisit-usage-{key_id}"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class CredentialStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    def issue(self, name: str, tenant_id: str, rate_per_second: int = DEFAULT_RATE_PER_SECOND) -> tuple[Integrator, str]:
        """Returns the integrator and its token; the token is shown once and never stored."""
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        self._table.put_item(Item=keys.credential(key_id) | {
            "name": name, "tenant_id": tenant_id, "secret_sha256": _digest(secret), "revoked": False,
            "rate_per_second": rate_per_second}, ConditionExpression="attribute_not_exists(pk)")
        return Integrator(key_id, name, tenant_id, rate_per_second), f"rvk_{key_id}_{secret}"

    def revoke(self, key_id: str) -> None:
        self._table.update_item(Key=keys.credential(key_id), UpdateExpression="SET revoked = :t",
                                ExpressionAttributeValues={":t": True}, ConditionExpression="attribute_exists(pk)")

    def authenticate(self, authorization: str | None, tenant_id: str) -> Integrator:
        match = TOKEN.match(authorization or "")
        if not match:
            raise Unauthorized("missing or malformed credential")
        key_id, secret = match.groups()
        item = self._table.get_item(Key=keys.credential(key_id), ConsistentRead=True).get("Item")
        if item is None or not hmac.compare_digest(item["secret_sha256"], _digest(secret)):
            raise Unauthorized("unknown credential")
        if item.get("revoked"):
            raise Forbidden("credential revoked")
        if item["tenant_id"] != tenant_id:
            raise Forbidden("credential is for another tenant")
        return Integrator(key_id, item["name"], item["tenant_id"], int(item.get("rate_per_second", DEFAULT_RATE_PER_SECOND)))
