"""What a tester does to the offline stack through `revisit serve`'s /_local routes (they exist only offline):
a patient's SMS reply delivered the way AWS delivers it, a night's sweep re-run, the outbox as JSON.

- Inbound SMS: on AWS, End User Messaging publishes the reply to the tenant's SNS topic
  (revisit-<tenant>-inbound-sms) and SNS invokes the inbound_sms function with an SNS event. Here the same
  event (the SNS record around End User Messaging's JSON) goes to the same handler, in process.
- Sweep re-run: the Sweep state machine started with the night's run date, under a name derived from the
  night (sweep-<tenant>-<yyyymmdd>-rerun-<virtual time>), as `revisit sweep` does on AWS. Its clinic pages
  are new executions; every recall it selects has its deterministic name (recall-<patient>-<due date>),
  which Step Functions refuses to start twice; the report is rewritten, the staff emails are once a night.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from boto3.dynamodb.conditions import Attr
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from revisit.adapters import dynamo_keys as keys
from revisit.domain.naming import sweep_execution_name
from revisit.offline.driver import Driver
from revisit.offline.outbox import outbox_records, sent_message_ids
from revisit.offline.stack import ACCOUNT, REGION, OfflineStack
from revisit.topology import function_name, resource_name

PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
MESSAGE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
MAX_TEXT = 1600  # End User Messaging's longest inbound message (10 concatenated segments)
SWEEP_MACHINE = "sweep"
CYCLE = keys.cycle("-", "")[keys.SK]
SWEEP_LIMIT = timedelta(hours=6)  # virtual time a re-run may take before the route gives up waiting


class LocalError(Exception):
    """A 4xx answer, in the API's Problem shape: status, error, field."""

    def __init__(self, status: int, error: str, field: str | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.field = field

    def problem(self) -> dict:
        return {"status": self.status, "error": str(self), "field": self.field}


def json_object(body: str | None, fields: dict[str, bool]) -> dict[str, Any]:
    """The body as a JSON object with only these fields (name: required)."""
    try:
        value = json.loads(body or "")
    except ValueError:
        raise LocalError(422, "the body is not JSON", "body") from None
    if not isinstance(value, dict):
        raise LocalError(422, "the body must be a JSON object", "body")
    for name in value:
        if name not in fields:
            raise LocalError(422, f"unknown field {name!r} (expected: {', '.join(fields)})", name)
    for name, required in fields.items():
        if required and name not in value:
            raise LocalError(422, "field required", name)
    return value


# --- inbound SMS ------------------------------------------------------------------------------


def inbound_event(stack: OfflineStack, phone: str, text: str, message_id: str, destination: str) -> dict:
    """The SNS event AWS hands the inbound_sms function: End User Messaging's message, as SNS wraps it."""
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:{resource_name(stack.config.tenant_id, 'inbound-sms')}"
    return {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": f"{topic}:{uuid.uuid4()}",
        "Sns": {
            "Type": "Notification", "MessageId": str(uuid.uuid4()), "TopicArn": topic, "Subject": None,
            "Message": json.dumps({"originationNumber": phone, "destinationNumber": destination,
                                   "messageKeyword": f"KEYWORD_{ACCOUNT}", "messageBody": text,
                                   "inboundMessageId": message_id, "previousPublishedMessageId": None}),
            "Timestamp": stack.clock.now().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "SignatureVersion": "1", "MessageAttributes": {},
        },
    }]}


def deliver_inbound_sms(stack: OfflineStack, driver: Driver, body: str | None) -> dict:
    """POST /_local/sms/inbound {"from", "text", "message_id"?}: the handler's answer, the messages it sent
    (answers to the reply) and whether this message id had been handled before."""
    request = json_object(body, {"from": True, "text": True, "message_id": False})
    phone, text = request["from"], request["text"]
    if not isinstance(phone, str) or not PHONE.match(phone):
        raise LocalError(422, "an E.164 phone number, e.g. +16175550123", "from")
    if not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT:
        raise LocalError(422, f"a text of 1 to {MAX_TEXT} characters", "text")
    message_id = request.get("message_id", str(uuid.uuid4()))
    if not isinstance(message_id, str) or not MESSAGE_ID.match(message_id):
        raise LocalError(422, "letters, digits and . _ : - (at most 100)", "message_id")
    before = sent_message_ids()
    logged_before = _logged(stack, message_id)
    event = inbound_event(stack, phone, text, message_id, stack.config.clinics[0].phone)
    answer = stack.lambdas.invoke(FunctionName=function_name(stack.config.tenant_id, "inbound_sms"),
                                  Payload=json.dumps(event))
    driver.settle()
    result = json.loads(answer["Payload"].read())
    if "FunctionError" in answer:  # on AWS: retried twice, then the function's failure queue
        raise LocalError(502, f"inbound_sms failed: {result.get('errorType')}: {result.get('errorMessage')}")
    new = sent_message_ids() - before
    return {
        "message_id": message_id,
        "sns_message_id": event["Records"][0]["Sns"]["MessageId"],
        "function": function_name(stack.config.tenant_id, "inbound_sms"),
        "result": result,
        "already_handled": logged_before,
        "logged_on": sorted(_logged_on(stack, message_id)),
        "sent": outbox_records(stack.config, stack.table, only=new) if new else [],
    }


def _logged_rows(stack: OfflineStack, message_id: str) -> list[dict]:
    """The reply's rows on patients' communication logs (one per patient the number reached)."""
    items, start = [], None
    while True:
        page = stack.table.scan(FilterExpression=Attr("message_id").eq(message_id) & Attr("cycle_id").eq("inbound"),
                                **({"ExclusiveStartKey": start} if start else {}))
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def _logged(stack: OfflineStack, message_id: str) -> bool:
    return bool(_logged_rows(stack, message_id))


def _logged_on(stack: OfflineStack, message_id: str) -> set[str]:
    return {row["patient_id"] for row in _logged_rows(stack, message_id)}


# --- sweep re-run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    executions: dict[str, set[str]]
    messages: set[str]
    cycles: int


def _snapshot(stack: OfflineStack) -> _Snapshot:
    backend = stepfunctions_parser_backends[ACCOUNT][REGION]
    machine_of = {arn: machine for machine, arn in stack.state_machine_arns.items()}
    executions: dict[str, set[str]] = {machine: set() for machine in stack.state_machine_arns}
    for state_machine in backend.state_machines:
        if state_machine.arn in machine_of:
            executions[machine_of[state_machine.arn]] |= {e.name for e in state_machine.executions}
    return _Snapshot(executions, sent_message_ids(), _count_cycles(stack))


def _count_cycles(stack: OfflineStack) -> int:
    count, start = 0, None
    while True:
        page = stack.table.scan(FilterExpression=Attr(keys.SK).begins_with(CYCLE), Select="COUNT",
                                **({"ExclusiveStartKey": start} if start else {}))
        count += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return count


def parse_night(value: Any) -> date:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise LocalError(422, "a night as YYYY-MM-DD", "night")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise LocalError(422, f"{value} is not a date", "night") from None


def rerun_sweep(stack: OfflineStack, driver: Driver, body: str | None) -> dict:
    """POST /_local/sweep {"night": "YYYY-MM-DD"}: the night's sweep again, waited for in virtual time (its
    LetCyclesOpen wait moves the clock a minute or two); what it started, opened and sent."""
    night = parse_night(json_object(body, {"night": True})["night"])
    today = stack.clock.now().astimezone(ZoneInfo(stack.config.time_zone)).date()
    if night > today:
        raise LocalError(422, f"the night of {night} has not come yet (virtual today is {today} in "
                              f"{stack.config.time_zone}): move the clock (POST /_local/clock)", "night")
    before = _snapshot(stack)
    name = sweep_execution_name(stack.config.tenant_id, night, f"rerun-{stack.clock.now():%Y%m%dT%H%M%S}")
    sfn = stack.client("stepfunctions")
    try:
        arn = stack.start_execution(SWEEP_MACHINE, name, {"run_date": night.isoformat()})
    except sfn.exceptions.ExecutionAlreadyExists:
        raise LocalError(409, f"an execution named {name} exists already", "night") from None
    deadline = stack.clock.now() + SWEEP_LIMIT
    status = "RUNNING"
    while status == "RUNNING" and stack.clock.now() < deadline:
        driver.run_until(stack.clock.now() + timedelta(minutes=1))
        status = sfn.describe_execution(executionArn=arn)["status"]
    after = _snapshot(stack)
    new_messages = after.messages - before.messages
    return {
        "night": night.isoformat(),
        "execution": name,
        "status": status,
        "now": stack.clock.now().isoformat(),
        "started": {machine: len(after.executions[machine] - before.executions.get(machine, set()))
                    for machine in after.executions},
        "recalls_started": sorted(after.executions.get("recall", set()) - before.executions.get("recall", set())),
        "cycles_opened": after.cycles - before.cycles,
        "sent": outbox_records(stack.config, stack.table, only=new_messages) if new_messages else [],
    }
