"""Lambda tasks run in process: the real handler modules from functions/, called with a Lambda context.

moto would need Docker to run a function. The interpreter gets this client instead of a boto3 Lambda
client; it answers Invoke the way the Lambda service does, errors included (FunctionError "Unhandled"
and the runtime's errorType/errorMessage body, so Retry and Catch match on the exception's class name).
"""

from __future__ import annotations

import importlib.util
import io
import json
import threading
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from revisit.offline import aws_calls

Handler = Callable[[dict, Any], Any]


@dataclass
class LambdaContext:
    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "offline"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def load_handler(path: Path, module_name: str) -> Handler:
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


class InProcessLambda:
    """The registry of functions, and the client the interpreter calls."""

    def __init__(self, region: str, account: str) -> None:
        self.region = region
        self.account = account
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()
        # A Lambda execution environment runs one invocation at a time, and handler code (Powertools'
        # Logger keys, cached clients) relies on that. In one process, one invocation at a time too.
        self._environment = threading.Lock()
        self.invocations: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.last_errors: dict[str, str] = {}

    def exclusive(self) -> threading.Lock:
        """For code that acts on the emulated account beside the functions (the demo's simulated patients):
        moto is not thread-safe, so it waits its turn like one more invocation."""
        return self._environment

    def arn(self, function_name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{function_name}"

    def register(self, function_name: str, handler: Handler) -> str:
        self._handlers[function_name] = handler
        return self.arn(function_name)

    def invoke(self, FunctionName: str, Payload: Any = None, **_: Any) -> dict:
        name = FunctionName.split(":function:")[-1].split(":")[0]
        handler = self._handlers.get(name)
        if handler is None:
            raise KeyError(f"no offline handler for Lambda function {name!r}")
        if isinstance(Payload, (bytes, bytearray)):
            event = json.loads(Payload or b"{}")
        elif isinstance(Payload, str):
            event = json.loads(Payload or "{}")
        else:
            event = Payload or {}
        context = LambdaContext(name, self.arn(name), str(uuid.uuid4()))
        calls = aws_calls.recorder(self.account)
        calls.record_invoke(self.arn(name))
        with self._lock:
            self.invocations[name] += 1
        try:
            with self._environment, aws_calls.acting_as(aws_calls.function_principal(name)):
                result = handler(event, context)
        except Exception as exc:
            with self._lock:
                self.errors[name] += 1
                self.last_errors[name] = f"{type(exc).__name__}: {exc}"
            body = {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_tb(exc.__traceback__),
            }
            return {"StatusCode": 200, "FunctionError": "Unhandled", "ExecutedVersion": "$LATEST",
                    "Payload": io.BytesIO(json.dumps(body).encode())}
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST",
                "Payload": io.BytesIO(json.dumps(result, default=str).encode())}
