"""Every AWS call made offline, by whom: the IAM action it needs and the resource it names.

moto does not enforce IAM, so offline runs pass whatever the roles allow. The recorder keeps what each
principal (a Lambda function, a state machine, the nightly schedule) asked of AWS, as IAM sees it, and
`revisit/offline/iam_check.py` checks it against the synthesized template's roles (tests/infra/test_iam_calls.py).

Who is calling is a context variable: the in-process Lambda runtime sets it around each handler, the Step
Functions interpreter's worker around each execution (the threads it starts inherit it, seams.py), the
driver around a schedule's start. Calls made with no principal (test set-up, the simulated patients, the
offline stack creating its resources) are not AWS's business and are not recorded.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.client import BaseClient

PRINCIPAL: contextvars.ContextVar[str | None] = contextvars.ContextVar("revisit_aws_principal", default=None)
"""`function:<name>`, `machine:<name>` or `schedule:<name>` (the resource names the CDK app gives them):
whose role the call runs under on AWS."""

RECORD_ENVIRONMENT = "REVISIT_RECORD_AWS_CALLS"
"""A folder: set, every process that runs offline code writes its calls there (one JSON file each)."""

IAM_PREFIX = {"monitoring": "cloudwatch"}
"""botocore's signing names that are not the IAM service prefix."""


@dataclass(frozen=True, order=True)
class Call:
    principal: str
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    """The condition keys IAM would see (ses:FromAddress...)."""


@contextlib.contextmanager
def acting_as(principal: str) -> Iterator[None]:
    token = PRINCIPAL.set(principal)
    try:
        yield
    finally:
        PRINCIPAL.reset(token)


def function_principal(function_name: str) -> str:
    return f"function:{function_name}"


def machine_principal(state_machine_name: str) -> str:
    return f"machine:{state_machine_name}"


def schedule_principal(schedule_name: str) -> str:
    return f"schedule:{schedule_name}"


def iam_calls(service: str, operation: str, params: dict[str, Any], region: str,
              account: str) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """The (action, resource ARN, condition context) IAM evaluates for one API call. An operation this does
    not know is recorded against "*", which no role here grants: the check names it, and it gets its
    mapping here before it can pass unseen."""
    prefix = IAM_PREFIX.get(service, service)
    action = f"{prefix}:{operation}"
    try:
        return _mapped(prefix, action, operation, params, region, account)
    except (KeyError, IndexError, TypeError):  # a parameter this mapping expects is missing: name the call
        return [(action, "*", ())]


def _mapped(prefix: str, action: str, operation: str, params: dict[str, Any], region: str,
            account: str) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
    if prefix == "dynamodb":
        return _dynamodb(operation, params, region, account)
    if prefix == "s3":
        if operation in ("PutObject", "GetObject", "DeleteObject"):
            return [(action, f"arn:aws:s3:::{params['Bucket']}/{params['Key']}", ())]
        if operation == "HeadObject":
            return [("s3:GetObject", f"arn:aws:s3:::{params['Bucket']}/{params['Key']}", ())]
        if operation in ("ListObjectsV2", "ListObjects"):
            return [("s3:ListBucket", f"arn:aws:s3:::{params['Bucket']}", (("s3:prefix", params.get("Prefix", "")),))]
    if prefix == "sns" and operation == "Publish":
        # SMS to a phone number names no resource: IAM evaluates it against "*".
        return [(action, params.get("TopicArn") or params.get("TargetArn") or "*", ())]
    if prefix == "ses" and operation == "SendEmail":
        sender = params["FromEmailAddress"]
        address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
        context = (("ses:FromAddress", address),)
        identity = params.get("FromEmailAddressIdentityArn") or \
            f"arn:aws:ses:{region}:{account}:identity/{address.split('@', 1)[1]}"
        # SES v2 authorizes a SendEmail with raw MIME content as ses:SendRawEmail (AccessDenied names it:
        # anymail/django-anymail#384, aws/aws-actionmailer-ses-ruby#10), a simple or templated one as ses:SendEmail.
        raw = "Raw" in params.get("Content", {})
        return [("ses:SendRawEmail" if raw else action, identity, context)]
    if prefix == "states":
        if operation == "StartExecution":
            return [(action, params["stateMachineArn"], ())]
        if operation in ("DescribeExecution", "StopExecution", "GetExecutionHistory"):
            return [(action, params["executionArn"], ())]
        if operation in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
            return [(action, "*", ())]
        if operation == "ListExecutions":
            return [(action, params["stateMachineArn"], ())]
    if prefix == "events" and operation == "PutEvents":
        buses = {entry.get("EventBusName", "default") for entry in params["Entries"]}
        return [(action, bus if bus.startswith("arn:") else f"arn:aws:events:{region}:{account}:event-bus/{bus}", ())
                for bus in sorted(buses)]
    if prefix == "kms" and operation in ("GenerateMac", "VerifyMac", "Encrypt", "Decrypt", "GenerateDataKey"):
        key = params["KeyId"]
        return [(action, key if key.startswith("arn:") else f"arn:aws:kms:{region}:{account}:key/{key}", ())]
    if prefix == "sqs" and "QueueUrl" in params:
        # https://sqs.<region>.amazonaws.com/<account>/<name> (moto: http://localhost/...): the queue's ARN;
        # a batch is authorized as its single action (DeleteMessageBatch is sqs:DeleteMessage).
        owner, name = params["QueueUrl"].rstrip("/").split("/")[-2:]
        single = operation.removesuffix("Batch")
        return [(f"sqs:{single}", f"arn:aws:sqs:{region}:{owner if owner.isdigit() else account}:{name}", ())]
    if prefix == "cloudwatch" and operation == "PutMetricData":
        return [(action, "*", ())]
    if prefix == "lambda" and operation == "Invoke":
        name = params["FunctionName"]
        return [("lambda:InvokeFunction",
                 name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}", ())]
    return [(action, "*", ())]


DYNAMODB_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                     "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
"""A transaction is authorized item by item, by the action each item's operation needs."""


def _dynamodb(operation: str, params: dict[str, Any], region: str,
              account: str) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
    def table(name: str, index: str | None = None) -> str:
        arn = f"arn:aws:dynamodb:{region}:{account}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    if operation in ("TransactWriteItems", "TransactGetItems"):
        found = []
        for entry in params["TransactItems"]:
            [(kind, body)] = entry.items()
            found.append((f"dynamodb:{DYNAMODB_TRANSACT[kind]}", table(body["TableName"]), ()))
        return sorted(set(found))
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{operation}", table(name), ()) for name in sorted(params["RequestItems"])]
    return [(f"dynamodb:{operation}", table(params["TableName"], params.get("IndexName")), ())]


class CallRecorder:
    """Wraps botocore's one entry point for every client call; records, never changes, the call."""

    def __init__(self, account: str) -> None:
        self.account = account
        self.calls: Counter[Call] = Counter()
        self.key_names: dict[str, str] = {}
        """KMS key id -> its alias: keys have random ids offline, so a key's ARN is recorded with its alias in
        the id's place (revisit/offline/iam_check.py names the template's keys the same way)."""
        self.metrics: Counter[tuple[str, str]] = Counter()
        """(principal, metric name): what each function emitted to CloudWatch (tests/infra/test_dashboard.py
        matches the ops dashboard's metrics to them)."""
        self._original: Any = None
        self._original_metrics: tuple[Any, Any] | None = None

    def install(self) -> None:
        if self._original is not None:
            return
        original = self._original = BaseClient._make_api_call
        recorder = self
        self._install_metrics()

        def _make_api_call(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
            principal = PRINCIPAL.get()
            if principal is not None:
                recorder.record(principal, client.meta.service_model.signing_name, operation_name, api_params,
                                client.meta.region_name)
            return original(client, operation_name, api_params)

        BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]

    def _install_metrics(self) -> None:
        """Metrics are not AWS calls on Lambda (embedded in the logs); they are recorded at the one adapter."""
        from revisit.adapters.metrics import PowertoolsMetrics

        count, gauge = self._original_metrics = PowertoolsMetrics.count, PowertoolsMetrics.gauge
        recorder = self

        def recorded(emit: Any) -> Any:
            def wrapper(sink: PowertoolsMetrics, name: str, *args: Any) -> None:
                principal = PRINCIPAL.get()
                if principal is not None:
                    recorder.metrics[(principal, name)] += 1
                emit(sink, name, *args)
            return wrapper

        PowertoolsMetrics.count = recorded(count)  # type: ignore[method-assign]
        PowertoolsMetrics.gauge = recorded(gauge)  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            BaseClient._make_api_call = self._original  # type: ignore[method-assign]
            self._original = None
        if self._original_metrics is not None:
            from revisit.adapters.metrics import PowertoolsMetrics

            PowertoolsMetrics.count, PowertoolsMetrics.gauge = self._original_metrics  # type: ignore[method-assign]
            self._original_metrics = None

    def record(self, principal: str, service: str, operation: str, params: dict[str, Any], region: str) -> None:
        for action, resource, context in iam_calls(service, operation, params, region, self.account):
            if action.startswith("kms:"):
                key_id = resource.rsplit("/", 1)[-1]
                resource = resource.replace(key_id, self.key_names.get(key_id, key_id))
            self.calls[Call(principal, action, resource, context)] += 1

    def record_invoke(self, function_arn: str) -> None:
        """A Lambda invoked by the current principal (a state machine's Task state) through the in-process
        runtime, which is not a botocore client."""
        principal = PRINCIPAL.get()
        if principal is not None:
            self.calls[Call(principal, "lambda:InvokeFunction", function_arn)] += 1

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"calls-{os.getpid()}.json"
        merged = Counter(load(path)) if path.exists() else Counter()
        merged.update(self.calls)
        path.write_text(json.dumps([[call.principal, call.action, call.resource, dict(call.context), count]
                                    for call, count in sorted(merged.items())], indent=0))
        self.calls.clear()
        metrics_path = folder / f"metrics-{os.getpid()}.json"
        emitted = Counter({(p, n): c for p, n, c in json.loads(metrics_path.read_text())}) if metrics_path.exists() else Counter()
        emitted.update(self.metrics)
        metrics_path.write_text(json.dumps([[p, n, c] for (p, n), c in sorted(emitted.items())], indent=0))
        self.metrics.clear()
        return path


def load(path: Path) -> Counter[Call]:
    calls: Counter[Call] = Counter()
    for principal, action, resource, context, count in json.loads(path.read_text()):
        calls[Call(principal, action, resource, tuple(sorted(context.items())))] += count
    return calls


def load_folder(folder: Path) -> Counter[Call]:
    calls: Counter[Call] = Counter()
    for path in sorted(folder.glob("calls-*.json")):
        calls.update(load(path))
    return calls


def load_metrics(folder: Path) -> Counter[tuple[str, str]]:
    """(principal, metric name) -> how often it was emitted, over every process of a recorded run."""
    emitted: Counter[tuple[str, str]] = Counter()
    for path in sorted(folder.glob("metrics-*.json")):
        emitted.update({(principal, name): count for principal, name, count in json.loads(path.read_text())})
    return emitted


_recorder: CallRecorder | None = None


def recorder(account: str) -> CallRecorder:
    """The process's one recorder (installed once; every offline stack in the process shares it)."""
    global _recorder
    if _recorder is None:
        _recorder = CallRecorder(account)
        _recorder.install()
    return _recorder


def save_if_asked() -> None:
    folder = os.environ.get(RECORD_ENVIRONMENT)
    if folder and _recorder is not None:
        _recorder.save(Path(folder))
