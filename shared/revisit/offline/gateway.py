"""API Gateway, offline: the same REST proxy events, the same authorizer and API functions (run in process),
the same rules (401 without a credential, 403 when the authorizer denies, 429 over the integrator's rate).
Tests call `Gateway.request` directly; `revisit serve` puts it behind an HTTP server on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from revisit.offline.cognito import verified_claims
from revisit.offline.stack import ACCOUNT, REGION, OfflineStack
from revisit.topology import function_name


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class Gateway:
    stack: OfflineStack
    stage: str = "v1"
    api_id: str = "offline"
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> HttpResponse:
        parts = urlsplit(url)
        headers = dict(headers or {})
        text = body if isinstance(body, str) or body is None else json.dumps(body)
        if text is not None:
            headers.setdefault("Content-Type", "application/json")
        method_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{self.api_id}/{self.stage}/{method.upper()}{parts.path}"
        if is_staff(parts.path):  # the Cognito user-pool authorizer: the tenant's pool signed this ID token
            claims = verified_claims(_header(headers, "Authorization"), self.stack.staff_pool) \
                if self.stack.staff_pool else None
            if claims is None:
                return _error(401, "Unauthorized")
            context = {"claims": claims}
        elif not is_public(parts.path):
            decision = self._authorize(headers, method_arn)
            if isinstance(decision, HttpResponse):
                return decision
            context = decision
        else:
            context = {}
        event = {
            "resource": parts.path, "path": parts.path, "httpMethod": method.upper(), "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": dict(parse_qsl(parts.query)) or None,
            "multiValueQueryStringParameters": _multi(parts.query), "pathParameters": None,
            "body": text, "isBase64Encoded": False,
            "requestContext": {"requestId": str(uuid.uuid4()), "stage": self.stage, "httpMethod": method.upper(),
                               "path": f"/{self.stage}{parts.path}", "resourcePath": parts.path,
                               "authorizer": context, "identity": {"sourceIp": "127.0.0.1"}},
        }
        result = self._invoke("api", event)
        payload = result.get("body") or ""
        if result.get("isBase64Encoded"):
            payload = base64.b64decode(payload).decode()
        # API Gateway merges a proxy response's headers and multiValueHeaders (Powertools answers in the latter).
        headers_out = dict(result.get("headers") or {}) | {
            name: values[-1] for name, values in (result.get("multiValueHeaders") or {}).items() if values}
        return HttpResponse(int(result.get("statusCode", 500)), headers_out, payload)

    def _authorize(self, headers: dict[str, str], method_arn: str) -> dict[str, str] | HttpResponse:
        event = {"type": "REQUEST", "methodArn": method_arn, "headers": headers}
        raw = self.stack.lambdas.invoke(FunctionName=function_name(self.stack.config.tenant_id, "api_authorizer"),
                                        Payload=json.dumps(event).encode())
        answer = json.loads(raw["Payload"].read())
        if raw.get("FunctionError"):
            return _error(401, "Unauthorized") if answer.get("errorMessage") == "Unauthorized" else _error(500, "authorizer failed")
        statement = answer["policyDocument"]["Statement"][0]
        if statement["Effect"] != "Allow":
            return _error(403, "User is not authorized to access this resource with an explicit deny")
        rate = self._rate_of(answer["principalId"])
        if not self._take(answer["principalId"], rate):
            return _error(429, "Too Many Requests")
        return answer.get("context") or {}

    def _rate_of(self, key_id: str) -> int:
        credential = self.stack.tables.credentials.get(key_id)
        return credential.rate_per_second if credential else 10

    def _take(self, key: str, rate: int) -> bool:
        """A token bucket per integrator (burst = 2 × rate), like the usage plan on AWS. Real time."""
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.setdefault(key, _Bucket(tokens=2 * rate, updated=now))
            bucket.tokens = min(2 * rate, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens < 1:
                return False
            bucket.tokens -= 1
            return True

    def _invoke(self, folder: str, event: dict) -> dict:
        raw = self.stack.lambdas.invoke(FunctionName=function_name(self.stack.config.tenant_id, folder),
                                        Payload=json.dumps(event).encode())
        answer = json.loads(raw["Payload"].read())
        if raw.get("FunctionError"):
            return {"statusCode": 502, "body": json.dumps({"message": "Internal server error"})}
        return answer


def _multi(query: str) -> dict[str, list[str]] | None:
    values: dict[str, list[str]] = {}
    for key, value in parse_qsl(query):
        values.setdefault(key, []).append(value)
    return values or None


def is_staff(path: str) -> bool:
    """The console's routes, behind the staff user pool's authorizer (infra/constructs/api.py)."""
    return path.startswith("/staff/")


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def is_public(path: str) -> bool:
    """The routes without the authorizer, as infra/constructs/api.py declares them."""
    return path == "/health" or path.startswith(("/unsubscribe/", "/b/"))


def _error(status: int, message: str) -> HttpResponse:
    return HttpResponse(status, {"Content-Type": "application/json"}, json.dumps({"message": message}))
