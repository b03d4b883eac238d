"""The Lambda authorizer's logic. API Gateway caches its answer per credential for a few minutes, so a
revoked credential stops working within the cache's time to live (300 s, set in the CDK construct)."""

from __future__ import annotations

from typing import Any

from revisit.api.auth import CredentialStore, Forbidden, Unauthorized, usage_key
from revisit.services.context import TenantContext


def authorize(event: dict[str, Any], ctx: TenantContext) -> dict[str, Any]:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    try:
        integrator = CredentialStore(ctx.tables.credentials).authenticate(headers.get("authorization"), ctx.config.tenant_id)
    except Unauthorized:
        raise Exception("Unauthorized") from None  # API Gateway's contract for a 401
    except Forbidden:
        return _policy("anonymous", "Deny", event["methodArn"], {})
    return _policy(integrator.key_id, "Allow", event["methodArn"],
                   {"integrator_id": integrator.key_id, "tenant_id": integrator.tenant_id,
                    "clinics": ",".join(integrator.clinics)})


def _policy(principal: str, effect: str, method_arn: str, context: dict[str, str]) -> dict[str, Any]:
    # Allow every method of this API stage: the answer is cached per credential, not per route.
    api_arn = "/".join(method_arn.split("/")[:2]) + "/*"
    return {"principalId": principal, "context": context, "usageIdentifierKey": usage_key(principal),
            "policyDocument": {"Version": "2012-10-17",
                               "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": api_arn}]}}
