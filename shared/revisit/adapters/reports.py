"""Reports go to the tenant's private, encrypted S3 bucket."""

from __future__ import annotations

from typing import Any

from revisit.topology import REPORTS_PREFIX


class S3ReportStore:
    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def put(self, key: str, body: bytes, content_type: str) -> None:
        if not key.startswith(REPORTS_PREFIX):
            raise ValueError(f"report keys start with {REPORTS_PREFIX!r}: {key!r}")
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)
