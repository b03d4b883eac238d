"""Every hook into moto's private Step Functions interpreter, in one place. moto is pinned (pyproject);
tests/workflows/test_seams.py fails loudly if any of these stops working after an upgrade.

1. Wait states and Retry back-offs sleep in virtual time instead of real time.
2. Timestamp waits compare with the virtual clock (moto compares with naive datetime.now()).
3. Lambda tasks go to the in-process handlers; other AWS clients are cached, not rebuilt per task.
4. Starting and ending executions is counted, so the driver knows when everything is asleep.
5. (Speed only) moto's DynamoDB Query walks (and our Scan sorted) the whole table: a Query is handed only
   its partition's items, or, on an index, the items with that index key, kept in buckets per index key
   value that every write keeps current (put, update, delete, a transaction's roll-back), so an index
   Query costs what its partition holds, not the table; a Scan sorts string keys by their raw values, the
   same order as moto's slow DynamoType comparisons.
6. (Speed only) moto encodes every DynamoDB item response by walking botocore's shape model, about
   2 ms per call; item results are already in the wire format, so plain JSON gives the same body.
7. (Speed only) The interpreter parses the ASL (ANTLR) on every execution and every JSONPath (ply) on
   every use; both parses are pure functions of their text, so they are cached.
8. (Speed and memory) moto's TransactWriteItems deep-copies the whole table once per item, to roll back
   on failure (and the copies pile up: ~10 MB per booking with a few thousand items). The seam snapshots
   only the items the transaction touches and restores those on failure: the same all-or-nothing result.
9. `startExecution.sync` polls the child execution with time.sleep: the poll sleeps in virtual time too,
   so a waiting parent counts as asleep and the driver can move on.
10. A task waiting for its token (`.waitForTaskToken`) counts as asleep until the token is answered; the
   answer (SendTaskSuccess, from another thread) marks it busy before it wakes, so the driver never moves
   time while it runs.
11. Each execution runs as its state machine (revisit.offline.aws_calls records its calls under its name),
   and the threads the interpreter starts for it (Map iterations, branches, callbacks) inherit that.
12. (Speed) A DynamoDB item call goes to moto's DynamoDB handler in process, not through the emulated HTTP
   round trip: botocore still validates and serializes the request and parses the answer with its own
   parser (errors included), but nothing signs it, and moto neither re-parses the JSON body against the
   service model nor reads it as a query string (about 1 ms of a 1.3 ms PutItem). The account is the one
   the client's access key maps to, as moto would find it in the signature. Skipped with the round trip:
   botocore's retries and its send/sign/parse events, moto's IAM emulation (off unless a test turns it
   on) and its request recorder; none is used here. The usual path remains for a request carrying binary
   values (moto's parser decodes them), any endpoint that is not AWS's (DynamoDB Local) and any call made
   while moto's mock is off.
"""

from __future__ import annotations

import contextvars
import copy
import datetime as _dt
import functools
import json
import os
import re
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.client import BaseClient
from moto.core.exceptions import ServiceException
from moto.core.models import botocore_stubber as moto_botocore_stubber
from moto.core.responses import ActionResult
from moto.core.utils import camelcase_to_underscores, utcnow
from moto.dynamodb import models as moto_dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table as MotoTable
from moto.dynamodb.responses import DynamoHandler, DynamoResult
from moto.iam.models import get_account_id_from
from moto.stepfunctions.parser import models as parser_models
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.program import program as parser_program
from moto.stepfunctions.parser.asl.component.state.exec import execute_state
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import inline_iteration_component
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branch_worker
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_callback,
    state_task_service_factory,  # noqa: F401  (imports every service module, so each copy gets patched)
    state_task_service_sfn,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint
from moto.stepfunctions.parser.asl.eval.event import event_manager
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import boto_client as moto_boto_client
from moto.stepfunctions.parser.asl.utils import json_path as moto_json_path
from moto.stepfunctions.parser.backend import execution as backend_execution
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.utilities.aws_headers import gen_amz_crc32, gen_amzn_requestid_long
from werkzeug.exceptions import HTTPException
from werkzeug.http import http_date

from revisit.offline import aws_calls
from revisit.offline.lambda_dispatch import InProcessLambda
from revisit.offline.virtual_time import VirtualClock

_installed: dict[str, Any] = {}
_active: dict[str, Any] = {}


def install(clock: VirtualClock, lambdas: InProcessLambda) -> None:
    """Points the interpreter at `clock` and `lambdas`. Idempotent; `uninstall` restores moto."""
    _active["clock"] = clock
    _active["lambdas"] = lambdas
    _active["clients"] = {}
    if _installed:
        return

    _installed["wait_interval"] = WaitFunction._wait_interval
    _installed["timestamp_seconds"] = Timestamp._get_wait_seconds
    _installed["retrier_time"] = retrier_decl.time
    _installed["sync_poll_time"] = state_task_service_callback.time
    _installed["worker_start"] = ExecutionWorker.start
    _installed["worker_logic"] = ExecutionWorker._execution_logic
    _installed["all_items"] = MotoTable.all_items
    _installed["query"] = MotoTable.query
    _installed["dynamo_result"] = DynamoResult.execute_result
    _installed["asl_parse"] = AmazonStateLanguageParser.__dict__["parse"]
    _installed["json_path_parse"] = moto_json_path.parse
    _installed["transact"] = DynamoDBBackend.transact_write_items
    _installed["table_put"] = MotoTable.put_item
    _installed["table_delete"] = MotoTable.delete_item
    _installed["backend_update"] = DynamoDBBackend.update_item

    def table_put(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = _installed["table_put"](self, *args, **kwargs)
        _buckets_for(self).reindex(self, item.hash_key, item.range_key)
        return item

    def table_delete(self: Any, hash_key: Any, range_key: Any = None) -> Any:
        item = _installed["table_delete"](self, hash_key, range_key)
        _buckets_for(self).reindex(self, hash_key, range_key)
        return item

    def backend_update(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return _installed["backend_update"](self, table_name, key, *args, **kwargs)
        finally:  # updated in place (or created, or refused): its index keys are read again either way
            table = self.tables.get(table_name)
            if table is not None and table.hash_key_attr in key:
                _buckets_for(table).reindex(table, DynamoType(key[table.hash_key_attr]),
                                            DynamoType(key[table.range_key_attr]) if table.range_key_attr else None)

    def transact(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        snapshots = []
        for entry in transact_items:
            _, operation = next(iter(entry.items()))
            table = self.tables.get(operation.get("TableName"))
            if table is None:
                continue
            key = operation.get("Key") or operation.get("Item") or {}
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            snapshots.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
        with _transact_lock:
            moto_dynamodb_models.copy = _TablesNotCopied
            try:
                return _installed["transact"](self, transact_items)
            except Exception:
                for table, hash_value, range_value, item in reversed(snapshots):
                    _restore(table, hash_value, range_value, item)
                    _buckets_for(table).reindex(table, hash_value, range_value)
                raise
            finally:
                moto_dynamodb_models.copy = copy

    def dynamo_result(self: Any, context: Any) -> Any:
        if context.operation_model.name in ITEM_OPERATIONS and isinstance(self.result, dict):
            try:
                body = json.dumps({k: v for k, v in self.result.items() if v is not None})
            except TypeError:  # binary or timestamp values: let moto encode them
                pass
            else:
                return 200, {"Content-Type": "application/x-amz-json-1.0"}, body
        return _installed["dynamo_result"](self, context)

    _query_hint = threading.local()

    def query(self: Any, hash_key: Any, range_comparison: Any, range_objs: Any, limit: Any, exclusive_start_key: Any,
              scan_index_forward: Any, projection_expressions: Any, index_name: Any = None, *args: Any,
              **kwargs: Any) -> Any:
        _query_hint.value = (index_name, hash_key, kwargs.get("hash_key_conditions"))
        try:
            return _installed["query"](self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                                       scan_index_forward, projection_expressions, index_name, *args, **kwargs)
        finally:
            _query_hint.value = None

    def all_items(self: Any) -> list:
        hint = getattr(_query_hint, "value", None)
        if hint is not None and self.range_key_attr:
            # Query filters and sorts what it gets; hand it only the candidates, unsorted.
            index_name, hash_key, conditions = hint
            if index_name is None and hash_key is not None:
                return list(self.items.get(hash_key, {}).values())
            if index_name is not None and conditions and len(conditions) == 1:
                name, value = conditions[0]
                return _buckets_for(self).items_with(self, name, value.value)
        items = [item for hash_set in self.items.values()
                 for item in (hash_set.values() if self.range_key_attr else [hash_set])]
        if all(item.hash_key.type == "S" and (item.range_key is None or item.range_key.type == "S") for item in items):
            return sorted(items, key=lambda x: (x.hash_key.value, x.range_key.value if x.range_key else ""))
        return _installed["all_items"](self)

    def wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        _active["clock"].sleep(wait_seconds)

    def timestamp_seconds(self: Any, env: Any) -> int:
        self.string.eval(env=env)
        timestamp_str: str = env.stack.pop()
        timestamp = self._from_timestamp_string(timestamp=timestamp_str)
        if timestamp is None:
            from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
                FailureEventException,
            )

            raise FailureEventException(self._create_failure_event(env, timestamp_str))
        wake = timestamp.replace(tzinfo=_dt.UTC)
        return int((wake - _active["clock"].now()).total_seconds())

    retrier_time = types.SimpleNamespace(sleep=lambda seconds: _active["clock"].sleep(seconds),
                                         time=lambda: _active["clock"].now().timestamp())

    def worker_start(self: Any) -> None:
        self.virtual_clock = _active["clock"]  # its own stack's clock, even if it outlives that stack
        self.virtual_clock.execution_started()
        _installed["worker_start"](self)

    def worker_logic(self: Any) -> None:
        try:
            with aws_calls.acting_as(aws_calls.machine_principal(
                    self._evaluation_details.state_machine_details.name)):
                _installed["worker_logic"](self)
        finally:
            self.virtual_clock.execution_finished()

    class VirtualDatetime(_dt.datetime):
        """Execution start and stop dates and history timestamps read the virtual clock too."""

        @classmethod
        def now(cls, tz: Any = None) -> _dt.datetime:  # type: ignore[override]
            current = _active["clock"].now()
            return current.astimezone(tz) if tz else current.replace(tzinfo=None)

    virtual_datetime_module = types.SimpleNamespace(
        **{name: getattr(_dt, name) for name in dir(_dt) if not name.startswith("__")}
    )
    virtual_datetime_module.datetime = VirtualDatetime
    _installed["datetime_modules"] = [parser_models, backend_execution, event_manager]
    for module in _installed["datetime_modules"]:
        module.datetime = virtual_datetime_module

    WaitFunction._wait_interval = wait_interval
    Timestamp._get_wait_seconds = timestamp_seconds
    retrier_decl.time = retrier_time
    state_task_service_callback.time = retrier_time
    ExecutionWorker.start = worker_start
    ExecutionWorker._execution_logic = worker_logic
    MotoTable.all_items = all_items
    MotoTable.put_item = table_put
    MotoTable.delete_item = table_delete
    DynamoDBBackend.update_item = backend_update
    MotoTable.query = query
    DynamoDBBackend.transact_write_items = transact
    DynamoResult.execute_result = dynamo_result
    BaseClient._make_request = _dynamodb_in_process
    AmazonStateLanguageParser.parse = staticmethod(functools.lru_cache(maxsize=64)(_installed["asl_parse"].__func__))
    moto_json_path.parse = functools.lru_cache(maxsize=4096)(_installed["json_path_parse"])
    _patch_client_factories(_client_for)
    _installed["callback_wait"] = CallbackEndpoint.wait
    _installed["callback_notify"] = CallbackEndpoint.notify

    def callback_wait(self: Any, timeout: float | None = None) -> Any:
        clock = _active["clock"]
        clock.outside_wait_began(id(self))
        try:
            return _installed["callback_wait"](self, timeout=timeout)
        finally:
            clock.outside_wait_ended(id(self))

    def callback_notify(self: Any, outcome: Any) -> Any:
        _active["clock"].outside_wait_ended(id(self))  # busy from now: the driver waits for what follows
        return _installed["callback_notify"](self, outcome)

    CallbackEndpoint.wait = callback_wait
    CallbackEndpoint.notify = callback_notify
    _installed["threading_modules"] = [parser_program, inline_iteration_component, state_task_service_callback,
                                       branch_worker]
    for module in _installed["threading_modules"]:
        module.threading = _THREADING_WITH_CONTEXT
    _installed["execute_state_thread"] = execute_state.Thread
    execute_state.Thread = _ContextThread


class _ContextThread(threading.Thread):
    """A thread that runs in a copy of its creator's context (whose role the calls run under)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._creator_context = contextvars.copy_context()

    def run(self) -> None:
        self._creator_context.run(super().run)


_THREADING_WITH_CONTEXT = types.SimpleNamespace(**{**vars(threading), "Thread": _ContextThread})
_transact_lock = threading.Lock()


class _TablesNotCopied:
    """What moto's transaction sees as `copy`: tables are not copied (the seam snapshots items instead)."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, MotoTable) else copy.deepcopy(value, memo)


class _IndexBuckets:
    """One table's items by the value of an index's partition attribute: value -> the items' keys. Built on
    the first Query of that attribute (one walk), then kept current by every write. Keys are kept in dicts,
    not sets: a deterministic order (string hashes vary by process), which Query then sorts by the index's
    sort key."""

    def __init__(self) -> None:
        self.by_attribute: dict[str, dict[Any, dict[tuple, None]]] = {}
        self.placed: dict[tuple, dict[str, Any]] = {}
        self.lock = threading.RLock()

    @staticmethod
    def _item(table: Any, key: tuple) -> Any:
        hash_value, range_value = key
        if table.range_key_attr:
            return table.items.get(hash_value, {}).get(range_value)
        return table.items.get(hash_value)

    def reindex(self, table: Any, hash_value: Any, range_value: Any) -> None:
        if not self.by_attribute:
            return
        key = (hash_value, range_value if table.range_key_attr else None)
        with self.lock:
            for name, value in self.placed.pop(key, {}).items():
                self.by_attribute[name].get(value, {}).pop(key, None)
            item = self._item(table, key)
            if item is not None:
                self._place(key, item)

    def _place(self, key: tuple, item: Any) -> None:
        for name, bucket in self.by_attribute.items():
            found = item.attrs.get(name)
            if found is not None:
                bucket.setdefault(found.value, {})[key] = None
                self.placed.setdefault(key, {})[name] = found.value

    def items_with(self, table: Any, name: str, value: Any) -> list:
        with self.lock:
            if name not in self.by_attribute:
                self.by_attribute[name] = {}
                for hash_value, partition in table.items.items():
                    for range_value, item in (partition.items() if table.range_key_attr else [(None, partition)]):
                        found = item.attrs.get(name)
                        if found is not None:
                            self.by_attribute[name].setdefault(found.value, {})[(hash_value, range_value)] = None
                            self.placed.setdefault((hash_value, range_value), {})[name] = found.value
            keys = list(self.by_attribute[name].get(value, ()))
        return [item for key in keys if (item := self._item(table, key)) is not None]


def _buckets_for(table: Any) -> _IndexBuckets:
    buckets = table.__dict__.get("_revisit_buckets")
    if buckets is None:
        buckets = table.__dict__.setdefault("_revisit_buckets", _IndexBuckets())
    return buckets


def _restore(table: Any, hash_value: Any, range_value: Any, item: Any) -> None:
    if table.range_key_attr:
        partition = table.items.setdefault(hash_value, {})
        if item is None:
            partition.pop(range_value, None)
        else:
            partition[range_value] = item
    elif item is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = item


ITEM_OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan",
                             "BatchGetItem", "BatchWriteItem"})
IN_PROCESS_OPERATIONS = ITEM_OPERATIONS | {"TransactWriteItems", "TransactGetItems"}
_AWS_DYNAMODB = re.compile(r"https://dynamodb\.[a-z0-9-]+\.amazonaws\.com/")


def _dynamodb_in_process(client: Any, operation_model: Any, request_dict: dict[str, Any],
                         request_context: dict[str, Any]) -> Any:
    """BaseClient._make_request for DynamoDB item calls: moto's handler answers the serialized request, and
    the answer is parsed as botocore's endpoint parses an HTTP response (same parser, same modeled error
    fields), so the caller gets the same result or the same exception."""
    body = request_dict["body"]
    if (operation_model.name not in IN_PROCESS_OPERATIONS or not moto_botocore_stubber.enabled
            or not _AWS_DYNAMODB.match(request_dict["url"])  # not DynamoDB, or DynamoDB Local: a real endpoint
            or not isinstance(body, bytes) or b'"B"' in body or b'"BS"' in body):
        return _BOTOCORE_MAKE_REQUEST(client, operation_model, request_dict, request_context)
    handler = DynamoHandler()
    handler.params = handler.body = json.loads(body)
    handler.headers = request_dict["headers"]
    handler.querystring, handler.uri_match = {}, {}
    handler.response_headers = {"server": "amazon.com", "date": http_date(utcnow())}  # as moto's setup_class
    handler.region = request_context["client_region"]
    handler.current_account = _moto_account(handler, client)
    try:
        status, headers, answer = handler.serialized(getattr(handler, camelcase_to_underscores(operation_model.name))())
    except ServiceException as error:
        status, headers, answer = handler.serialized(ActionResult(error))
    except HTTPException as error:  # moto's DynamoDB errors: the JSON body moto would send
        status, answer = error.code, error.description
        headers = {**handler.response_headers, **dict(error.get_headers() or []), "status": str(error.code)}
    gen_amz_crc32(answer, headers)
    gen_amzn_requestid_long(headers)
    http = AWSResponse(request_dict["url"], int(status), headers, None)
    response = {"status_code": http.status_code, "headers": http.headers,
                "body": answer.encode() if isinstance(answer, str) else answer}
    endpoint = client._endpoint
    parser = endpoint._response_parser_factory.create_parser(operation_model.service_model.resolved_protocol)
    parsed = parser.parse(response, operation_model.output_shape)
    if http.status_code >= 300:
        endpoint._add_modeled_error_fields(response, parsed, operation_model, parser)
    parsed.setdefault("ResponseMetadata", {})["RetryAttempts"] = 0  # as botocore's endpoint adds it
    return http, parsed


def _moto_account(handler: Any, client: Any) -> str:
    """The account moto would serve: as moto's get_current_account, with the access key the request would
    have been signed with (it is not signed here)."""
    if "MOTO_ACCOUNT_ID" in os.environ or "x-moto-account-id" in handler.headers:
        return handler.get_current_account()
    credentials = client._request_signer._credentials
    return get_account_id_from(credentials.access_key if credentials else handler.get_access_key())


_BOTOCORE_MAKE_REQUEST = BaseClient._make_request
"""Taken once at import: a call made while `uninstall` runs (an interpreter thread outliving its stack)
still finds it."""


class _AslParameters:
    """moto's Step Functions integration passes ASL's PascalCase parameters (StateMachineArn) straight to
    boto3, which wants camelCase (stateMachineArn), and returns boto3's camelCase where AWS returns
    PascalCase. This adapter does both conversions, as the real service does."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if not callable(method) or name.startswith("_") or name in ("meta", "exceptions"):
            return method

        def call(**parameters: Any) -> Any:
            response = method(**{k[:1].lower() + k[1:]: v for k, v in parameters.items()})
            return {k[:1].upper() + k[1:]: v for k, v in response.items()}

        return call


def _client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    if service == "lambda":
        return _active["lambdas"]
    clients = _active["clients"]
    key = (region, service, threading.get_ident() % 8)
    client = clients.get(key)
    if client is None:
        client = _installed["boto_client_for"](region=region, service=service, state_credentials=state_credentials)
        if service in ("stepfunctions", "states"):
            client = _AslParameters(client)
        clients[key] = client
    return client


def _patch_client_factories(factory: Callable[..., Any]) -> None:
    """The interpreter imports `boto_client_for` by name into several modules: replace every copy."""
    _installed.setdefault("boto_client_for", moto_boto_client.boto_client_for)
    original = _installed["boto_client_for"]
    _installed.setdefault("patched_modules", [])
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "boto_client_for", None) is original:
            module.boto_client_for = factory
            _installed["patched_modules"].append(module)
    for module in (lambda_eval_utils, state_task_service_sfn):
        assert module.boto_client_for is factory, f"{module.__name__} no longer uses boto_client_for"


def uninstall() -> None:
    if not _installed:
        return
    WaitFunction._wait_interval = _installed.pop("wait_interval")
    Timestamp._get_wait_seconds = _installed.pop("timestamp_seconds")
    retrier_decl.time = _installed.pop("retrier_time")
    state_task_service_callback.time = _installed.pop("sync_poll_time")
    ExecutionWorker.start = _installed.pop("worker_start")
    ExecutionWorker._execution_logic = _installed.pop("worker_logic")
    MotoTable.all_items = _installed.pop("all_items")
    MotoTable.put_item = _installed.pop("table_put")
    MotoTable.delete_item = _installed.pop("table_delete")
    DynamoDBBackend.update_item = _installed.pop("backend_update")
    MotoTable.query = _installed.pop("query")
    DynamoDBBackend.transact_write_items = _installed.pop("transact")
    DynamoResult.execute_result = _installed.pop("dynamo_result")
    BaseClient._make_request = _BOTOCORE_MAKE_REQUEST
    AmazonStateLanguageParser.parse = _installed.pop("asl_parse")
    moto_json_path.parse = _installed.pop("json_path_parse")
    for module in _installed.pop("datetime_modules"):
        module.datetime = _dt
    CallbackEndpoint.wait = _installed.pop("callback_wait")
    CallbackEndpoint.notify = _installed.pop("callback_notify")
    for module in _installed.pop("threading_modules"):
        module.threading = threading
    execute_state.Thread = _installed.pop("execute_state_thread")
    original = _installed.pop("boto_client_for")
    for module in _installed.pop("patched_modules"):
        module.boto_client_for = original
    _installed.clear()
    _active.clear()
