"""Reports go to the tenant's private, encrypted S3 bucket."""

from __future__ import annotations

from typing import Any

from revisit.topology import REPORTS_PREFIX


class S3ReportStore:
    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def keys(self, prefix: str = REPORTS_PREFIX, limit: int = 1000) -> list[str]:
        """The reports' keys under `prefix` (within reports/), newest name last."""
        if not prefix.startswith(REPORTS_PREFIX):
            raise ValueError(f"report keys start with {REPORTS_PREFIX!r}: {prefix!r}")
        found: list[str] = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=prefix, PaginationConfig={"MaxItems": limit}):
            found += [item["Key"] for item in page.get("Contents", [])]
        return sorted(found)

    def get(self, key: str) -> tuple[bytes, str] | None:
        """A report's bytes and content type; None if there is none by that key."""
        if not key.startswith(REPORTS_PREFIX):
            return None
        try:
            found = self._s3.get_object(Bucket=self._bucket, Key=key)
        except self._s3.exceptions.NoSuchKey:
            return None
        return found["Body"].read(), found.get("ContentType", "application/octet-stream")

    def put(self, key: str, body: bytes, content_type: str) -> None:
        if not key.startswith(REPORTS_PREFIX):
            raise ValueError(f"report keys start with {REPORTS_PREFIX!r}: {key!r}")
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)
