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

from revisit.models.entities import IntegratorCredential
from revisit.ports import CredentialRepository

TOKEN = re.compile(r"^(?i:bearer) +rvk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")  # the scheme is case-insensitive
DEFAULT_RATE_PER_SECOND = 10


@dataclass(frozen=True)
class Integrator:
    key_id: str
    name: str
    tenant_id: str
    rate_per_second: int
    clinics: tuple[str, ...] = ()


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
    """Issues, revokes and checks credentials over the tenant's credential repository."""

    def __init__(self, credentials: CredentialRepository) -> None:
        self._credentials = credentials

    def issue(self, name: str, tenant_id: str, rate_per_second: int = DEFAULT_RATE_PER_SECOND,
              clinics: tuple[str, ...] = ()) -> tuple[Integrator, str]:
        """Returns the integrator and its token; the token is shown once and never stored. `clinics` limits
        what it sees and books to those clinics (none: all of the tenant's)."""
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        self._credentials.add(IntegratorCredential(key_id=key_id, name=name, tenant_id=tenant_id,
                                                   secret_sha256=_digest(secret), rate_per_second=rate_per_second,
                                                   clinics=list(clinics)))
        return Integrator(key_id, name, tenant_id, rate_per_second, tuple(clinics)), f"rvk_{key_id}_{secret}"

    def revoke(self, key_id: str) -> None:
        self._credentials.revoke(key_id)

    def authenticate(self, authorization: str | None, tenant_id: str) -> Integrator:
        match = TOKEN.match(authorization or "")
        if not match:
            raise Unauthorized("missing or malformed credential")
        key_id, secret = match.groups()
        stored = self._credentials.get(key_id)
        if stored is None or not hmac.compare_digest(stored.secret_sha256, _digest(secret)):
            raise Unauthorized("unknown credential")
        if stored.revoked:
            raise Forbidden("credential revoked")
        if stored.tenant_id != tenant_id:
            raise Forbidden("credential is for another tenant")
        return Integrator(key_id, stored.name, stored.tenant_id, stored.rate_per_second, tuple(stored.clinics))
