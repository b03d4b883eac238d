"""Link signatures with a KMS HMAC key (GenerateMac / VerifyMac): the key never leaves KMS, and the
functions that sign links cannot verify them or the other way round (separate grants)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from revisit.errors import TransientError

ALGORITHM = "HMAC_SHA_256"
_TRANSIENT = {"ThrottlingException", "KMSInternalException", "DependencyTimeoutException"}


class KmsLinkSigner:
    def __init__(self, kms: Any, key_id: str) -> None:
        self._kms = kms
        self._key_id = key_id

    def sign(self, message: bytes) -> bytes:
        try:
            return self._kms.generate_mac(Message=message, KeyId=self._key_id, MacAlgorithm=ALGORITHM)["Mac"]
        except ClientError as exc:
            raise _translated(exc) from None

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            return bool(self._kms.verify_mac(Message=message, KeyId=self._key_id, MacAlgorithm=ALGORITHM,
                                             Mac=signature)["MacValid"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "KMSInvalidMacException":
                return False
            raise _translated(exc) from None


def _translated(exc: ClientError) -> Exception:
    code = exc.response.get("Error", {}).get("Code", "")
    if code in _TRANSIENT:
        return TransientError(f"link signature: {code}")
    return exc
