"""Starting and stopping the tenant's state machines (Step Functions)."""

from __future__ import annotations

import contextlib
from typing import Any

from botocore.exceptions import ClientError

from revisit.errors import TransientError


class StepFunctionsStarter:
    def __init__(self, client: Any, state_machine_arns: dict[str, str]) -> None:
        self._client = client
        self._arns = state_machine_arns

    def start(self, machine: str, name: str, payload: dict) -> bool:
        import json

        try:
            self._client.start_execution(stateMachineArn=self._arn(machine), name=name, input=json.dumps(payload))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ExecutionAlreadyExists":
                return False
            if code in ("ThrottlingException", "ExecutionLimitExceeded"):
                raise TransientError(f"start {machine}: {code}") from None
            raise
        return True

    def stop(self, machine: str, name: str, cause: str) -> None:
        """Best effort: an execution that already ended, or never started, is fine."""
        arn = self._arn(machine).replace(":stateMachine:", ":execution:") + f":{name}"
        with contextlib.suppress(ClientError):
            self._client.stop_execution(executionArn=arn, cause=cause)

    def answer(self, token: str, output: dict) -> bool:
        import json

        try:
            self._client.send_task_success(taskToken=token, output=json.dumps(output))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("TaskDoesNotExist", "InvalidToken", "TaskTimedOut"):
                return False
            if code == "ThrottlingException":
                raise TransientError(f"answer a task: {code}") from None
            raise
        return True

    def _arn(self, machine: str) -> str:
        try:
            return self._arns[machine]
        except KeyError:
            raise RuntimeError(f"no state machine ARN configured for {machine!r}") from None
