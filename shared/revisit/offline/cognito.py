"""Staff sign-in offline (issue 15): the tenant's Cognito user pool on moto, the same as the CDK stack's (a group
per role, an app client with USER_PASSWORD_AUTH), a user per staff member of the tenant file with a demo
password; the ID token checked as API Gateway's Cognito authorizer checks it (RS256 signature against the
pool's keys, issuer, audience, expiry); and the Cognito endpoint the console signs in at (`/_local/cognito`),
which answers InitiateAuth as cognito-idp does."""

from __future__ import annotations

import base64
import gzip
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from revisit.models.common import Role
from revisit.models.tenant import TenantConfig

CONSOLE_CLIENT = "console"
ALLOWED_TARGETS = {"AWSCognitoIdentityProviderService.InitiateAuth": "initiate_auth",
                   "AWSCognitoIdentityProviderService.RespondToAuthChallenge": "respond_to_auth_challenge"}
"""What the console asks of Cognito; anything else is refused as cognito-idp refuses an unknown action."""
ALLOWED_FLOWS = {"USER_PASSWORD_AUTH", "REFRESH_TOKEN_AUTH"}


def demo_password(staff_id: str) -> str:
    """Demo staff only (printed by `revisit serve`): a deployed pool's users set their own at first sign-in."""
    return f"Revisit-{staff_id}-2026"


@dataclass
class StaffPool:
    pool_id: str
    client_id: str
    users: dict[str, str] = field(default_factory=dict)
    """staff id -> role"""


def create_staff_pool(cognito: Any, config: TenantConfig, name: str) -> StaffPool:
    pool_id = cognito.create_user_pool(PoolName=name, Policies={"PasswordPolicy": {
        "MinimumLength": 12, "RequireUppercase": True, "RequireLowercase": True, "RequireNumbers": True}},
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True})["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName=CONSOLE_CLIENT, GenerateSecret=False, IdTokenValidity=60,
        AccessTokenValidity=60, RefreshTokenValidity=12, TokenValidityUnits={
            "IdToken": "minutes", "AccessToken": "minutes", "RefreshToken": "hours"},
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        PreventUserExistenceErrors="ENABLED",
    )["UserPoolClient"]["ClientId"]
    for role in Role:
        cognito.create_group(GroupName=role.value, UserPoolId=pool_id)
    pool = StaffPool(pool_id, client_id)
    for member in config.staff:
        cognito.admin_create_user(UserPoolId=pool_id, Username=member.staff_id, MessageAction="SUPPRESS",
                                  UserAttributes=[{"Name": "email", "Value": str(member.email)}])
        cognito.admin_set_user_password(UserPoolId=pool_id, Username=member.staff_id,
                                        Password=demo_password(member.staff_id), Permanent=True)
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=member.staff_id, GroupName=member.role.value)
        pool.users[member.staff_id] = member.role.value
    return pool


def verified_claims(authorization: str | None, pool: StaffPool) -> dict[str, str] | None:
    """The ID token's claims as API Gateway's Cognito authorizer passes them (strings; groups comma-joined),
    or None for a token this pool did not issue, or one expired, or anything else."""
    token = (authorization or "").removeprefix("Bearer ").strip()
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header, payload = (json.loads(_unb64(part)) for part in (header_b64, payload_b64))
        signature = _unb64(signature_b64)
    except (ValueError, UnicodeDecodeError):
        return None
    if header.get("alg") != "RS256" or not _signed(f"{header_b64}.{payload_b64}".encode(), signature, header.get("kid")):
        return None
    if not str(payload.get("iss", "")).endswith(f"/{pool.pool_id}") or payload.get("aud") != pool.client_id \
            or payload.get("token_use") != "id" or float(payload.get("exp", 0)) <= time.time():
        return None
    return {name: ",".join(value) if isinstance(value, list) else str(value) for name, value in payload.items()}


def cognito_endpoint(cognito: Any, target: str | None, body: str | None) -> tuple[int, dict]:
    """The subset of cognito-idp's JSON protocol the console uses; errors in its shape (`__type`)."""
    method = ALLOWED_TARGETS.get(target or "")
    if method is None:
        return 400, {"__type": "UnknownOperationException", "message": f"{target} is not available here"}
    try:
        request = json.loads(body or "{}")
    except ValueError:
        return 400, {"__type": "SerializationException", "message": "the body is not JSON"}
    if not isinstance(request, dict):
        return 400, {"__type": "SerializationException", "message": "the body is not a JSON object"}
    if method == "initiate_auth" and request.get("AuthFlow") not in ALLOWED_FLOWS:
        return 400, {"__type": "InvalidParameterException", "message": "AuthFlow: USER_PASSWORD_AUTH or REFRESH_TOKEN_AUTH"}
    from botocore.exceptions import ClientError, ParamValidationError

    try:
        answer = getattr(cognito, method)(**{k: v for k, v in request.items() if k in (
            "AuthFlow", "AuthParameters", "ClientId", "ChallengeName", "ChallengeResponses", "Session")})
    except ClientError as error:
        found = error.response.get("Error", {})
        code = found.get("Code", "NotAuthorizedException")
        if code == "UserNotFoundException":  # as the stack's client answers (PreventUserExistenceErrors)
            return 400, {"__type": "NotAuthorizedException", "message": "Incorrect username or password."}
        return 400, {"__type": code, "message": found.get("Message", "")}
    except ParamValidationError as error:
        return 400, {"__type": "InvalidParameterException", "message": str(error)}
    answer.pop("ResponseMetadata", None)
    return 200, answer


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signed(message: bytes, signature: bytes, kid: str | None) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    for key in _pool_keys():
        if key.get("kid") != kid:
            continue
        public = rsa.RSAPublicNumbers(int.from_bytes(_unb64(key["e"]), "big"),
                                      int.from_bytes(_unb64(key["n"]), "big")).public_key()
        try:
            public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
            return True
        except InvalidSignature:
            return False
    return False


def _pool_keys() -> list[dict]:
    """moto's user pools sign with one key pair; its public half is the pool's JWKS (cognito-idp publishes it
    at https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json)."""
    import moto

    path = Path(moto.__file__).parent / "cognitoidp" / "resources" / "jwks-public.json.gz"
    return json.loads(gzip.decompress(path.read_bytes()))["keys"]
