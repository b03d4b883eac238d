"""What each role in a synthesized template allows, checked against the AWS calls recorded offline.

moto enforces no IAM, so an offline run passes whatever the roles say. This reads the roles the CDK app
writes (CloudFormation intrinsics resolved against the template's own resources), and answers two
questions for each function, state machine and schedule: is every call it made allowed (action, resource,
the conditions it states), and is every action it is granted used by some call, or written down here with
the reason nothing offline makes that call (tests/infra/test_iam_calls.py asks both).

The keys have no name of their own offline or in the template: both sides call a KMS key by its alias
(`alias/revisit-<tenant>-links` stands in for the key id in its ARN).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from revisit import topology
from revisit.offline.aws_calls import Call, function_principal, machine_principal, schedule_principal
from revisit.topology import Topology

LOG_WRITES = ("logs:CreateLogStream", "logs:PutLogEvents")
LOG_DELIVERY = ("logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups")
TRACES = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
KEY_READ = ("kms:Decrypt", "kms:DescribeKey")
KEY_WRITE = ("kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")


@dataclass(frozen=True)
class Reason:
    principal: str
    action: str
    why: str


def reasons_for(declared: Topology, tenant_id: str, schedule_names: list[str]) -> list[Reason]:
    """Why each granted action no offline call uses is granted anyway, principal by principal, from what the
    topology declares of it (a reason never covers a principal it does not describe)."""
    found: list[Reason] = []

    def add(principal: str, actions: tuple[str, ...], why: str) -> None:
        found.extend(Reason(principal, action, why) for action in actions)

    for folder, needs in declared.functions.items():
        who = function_principal(topology.function_name(tenant_id, folder))
        add(who, LOG_WRITES, "Lambda writes the function's own log group with the function's role")
        add(who, TRACES, "Lambda sends the function's X-Ray traces (tracing is active) with its role")
        if needs.table_actions:
            add(who, KEY_READ, "DynamoDB decrypts the table with the tenant's key, with the caller's permissions "
                               "(server side: no call the code makes)")
        if needs.writes_table:
            add(who, KEY_WRITE, "DynamoDB encrypts what the function writes with the tenant's key, with the "
                                "caller's permissions (server side)")
        if needs.reports:
            add(who, ("kms:GenerateDataKey",), "S3 encrypts a report with the tenant's key (SSE-KMS), with the "
                                               "caller's permissions (server side)")
        if needs.invoked_async:
            add(who, ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "kms:GenerateDataKey*", "kms:Decrypt"),
                "Lambda puts an event that failed its retries in the function's encrypted failure queue with the "
                "function's role; offline nothing is retried asynchronously")
        if needs.consumes:
            add(who, ("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ChangeMessageVisibility"),
                "Lambda's event source mapping reads the function's events queue with the function's role (offline "
                "the driver plays it: it receives and deletes, it does not describe the queue or change visibility)")
            add(who, KEY_READ[:1], "SQS decrypts the events queue's messages with the tenant's key, with the "
                                   "caller's permissions (server side)")
        if needs.sms or needs.email:
            add(who, ("dynamodb:DeleteItem",),
                "a throttled send gives its claim back (services/delivery.py, ledger.release) so the retry may send: "
                "tests/workflows/test_recall_workflow.py::test_a_throttled_send_gives_its_claim_back_and_the_retry_"
                "sends_once runs it for contact_patient; every sender shares that code")
            add(who, ("dynamodb:UpdateItem",),
                "a retry that finds a send interrupted mid-way marks it unconfirmed (ledger.mark_unconfirmed): "
                "tests/workflows/test_recall_workflow.py::test_a_send_crashed_mid_way_is_never_resent_and_is_"
                "accounted_for runs it for contact_patient; every sender shares that code")
    for workflow in declared.workflows:
        who = machine_principal(topology.state_machine_name(tenant_id, workflow.name))
        add(who, LOG_DELIVERY, "Step Functions sets up the machine's log delivery with the machine's role")
        add(who, (*TRACES, "xray:GetSamplingRules", "xray:GetSamplingTargets"),
            "Step Functions sends the machine's X-Ray traces (tracing is active) with its role")
        if workflow.waits_for:
            add(who, ("events:PutTargets", "events:PutRule", "events:DescribeRule"),
                "Step Functions manages the rule that tells a .sync:2 parent its child ended, with the parent's role")
            add(who, ("states:StopExecution",), "Step Functions stops a .sync:2 child when its parent is stopped "
                                                "or fails, with the parent's role; offline no parent is stopped")
    for name in schedule_names:
        add(schedule_principal(name), ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", *KEY_READ[:1],
                                       *KEY_WRITE), "EventBridge Scheduler keeps a start it could not make in the "
                                                    "encrypted undelivered queue, with the schedule's role")
    return found


@dataclass(frozen=True)
class Statement:
    actions: tuple[str, ...]
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    conditions: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict, hash=False, compare=False)

    def allows(self, call: Call) -> bool:
        if not any(_matches(pattern, call.action, case_sensitive=False) for pattern in self.actions):
            return False
        return self.covers(call)

    def covers(self, call: Call) -> bool:
        """The call's resource and conditions are within this statement (its action aside)."""
        if self.not_resources:
            if any(_matches(pattern, call.resource) for pattern in self.not_resources):
                return False
        elif not any(_matches(pattern, call.resource) for pattern in self.resources):
            return False
        context = {key.lower(): value for key, value in call.context}  # condition keys ignore case
        for operator, keys in self.conditions.items():
            for key, wanted in keys.items():
                if key.lower() not in context or not _condition(operator, context[key.lower()], wanted):
                    return False
        return True


def _condition(operator: str, value: str, wanted: tuple[str, ...]) -> bool:
    if operator in ("StringEquals", "ArnEquals"):
        return value in wanted
    if operator == "StringEqualsIgnoreCase":
        return value.lower() in {w.lower() for w in wanted}
    if operator in ("StringLike", "ArnLike"):
        return any(_matches(pattern, value) for pattern in wanted)
    raise ValueError(f"condition operator {operator} is not understood here: add it")


@cache
def _pattern(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    """IAM's wildcards: * any run of characters (across ':' and '/'), ? any one character; nothing else is
    special (not fnmatch's [...])."""
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(f"^{regex}$", re.DOTALL | (0 if case_sensitive else re.IGNORECASE))


def _matches(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    return bool(_pattern(pattern, case_sensitive).match(value))


@dataclass
class Roles:
    """Each principal's statements, by the principal names revisit.offline.aws_calls records."""

    statements: dict[str, list[Statement]]

    def allowed(self, call: Call) -> bool:
        return any(statement.allows(call) for statement in self.statements.get(call.principal, []))

    def missing(self, calls: Iterable[Call]) -> list[str]:
        """A line per principal and action its role does not allow (the first resource, and how many more)."""
        refused: dict[tuple[str, str], list[Call]] = {}
        for call in sorted(set(calls)):
            if call.principal not in self.statements or not self.allowed(call):
                refused.setdefault((call.principal, call.action), []).append(call)
        problems = []
        for (principal, action), found in refused.items():
            if principal not in self.statements:
                problems.append(f"{principal}: has no role in the template (it made {action})")
                continue
            first = found[0]
            context = f" with {dict(first.context)}" if first.context else ""
            more = f" (and {len(found) - 1} more resources)" if len(found) > 1 else ""
            problems.append(f"{principal}: {action} on {first.resource}{context}{more} is not allowed by its role")
        return problems

    def unused(self, calls: Iterable[Call], reasons: list[Reason]) -> tuple[list[str], dict[str, list[str]]]:
        """Granted actions no recorded call of the principal used: the ones with no reason (a line each),
        and the reasoned ones (principal -> actions) for the report."""
        by_principal: dict[str, list[Call]] = {}
        for call in calls:
            by_principal.setdefault(call.principal, []).append(call)
        unreasoned, reasoned = [], {}
        for principal, statements in sorted(self.statements.items()):
            made = by_principal.get(principal, [])
            for statement in statements:
                for action in statement.actions:
                    if any(_matches(action, c.action, case_sensitive=False) and statement.covers(c) for c in made):
                        continue
                    reason = next((r.why for r in reasons if _matches(r.principal, principal)
                                   and _matches(r.action, action, case_sensitive=False)), None)
                    if reason is None:
                        unreasoned.append(f"{principal}: {action} on {', '.join(statement.resources or ('NOT ' + r for r in statement.not_resources))} "
                                          "is granted but no recorded call uses it, and no reason is written")
                    else:
                        reasoned.setdefault(principal, []).append(action)
        return unreasoned, reasoned


def roles_of(template: dict[str, Any], region: str, account: str) -> Roles:
    """The statements of every function's, state machine's and schedule's role in `template`."""
    resources = template["Resources"]
    resolve = _Resolver(resources, region, account)
    role_principals: dict[str, str] = {}
    for resource in resources.values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Lambda::Function" and "FunctionName" not in properties:
            continue  # a CDK provider's function (the console's file deployment), not one of Revisit's
        if resource["Type"] == "AWS::Lambda::Function":
            role_principals[properties["Role"]["Fn::GetAtt"][0]] = function_principal(resolve(properties["FunctionName"]))
        elif resource["Type"] == "AWS::StepFunctions::StateMachine":
            role_principals[properties["RoleArn"]["Fn::GetAtt"][0]] = machine_principal(
                resolve(properties["StateMachineName"]))
        elif resource["Type"] == "AWS::Scheduler::Schedule":
            role_principals[properties["Target"]["RoleArn"]["Fn::GetAtt"][0]] = schedule_principal(
                resolve(properties["Name"]))
    statements: dict[str, list[Statement]] = {principal: [] for principal in role_principals.values()}
    for resource in resources.values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        properties = resource["Properties"]
        for role in properties["Roles"]:
            principal = role_principals.get(role["Ref"])
            if principal is None:
                continue
            for raw in properties["PolicyDocument"]["Statement"]:
                if raw["Effect"] != "Allow" or "NotAction" in raw:
                    raise ValueError(f"{principal}: a Deny or NotAction statement; this check reads Allow + "
                                     "Action statements only")
                statements[principal].append(Statement(
                    actions=_strings(raw["Action"]), resources=tuple(resolve(r) for r in _list(raw.get("Resource"))),
                    not_resources=tuple(resolve(r) for r in _list(raw.get("NotResource"))),
                    conditions={op: {k: _strings(v) for k, v in keys.items()}
                                for op, keys in raw.get("Condition", {}).items()}))
    for logical_id, principal in role_principals.items():
        if resources[logical_id]["Properties"].get("Policies") or resources[logical_id]["Properties"].get(
                "ManagedPolicyArns"):
            raise ValueError(f"{principal}: inline or managed policies on its role; this check reads AWS::IAM::Policy")
    return Roles(statements)


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in _list(value))


class _Resolver:
    """CloudFormation's Ref, Fn::GetAtt (Arn, Name), Fn::Join and Fn::Sub, to the names AWS would give."""

    def __init__(self, resources: dict[str, Any], region: str, account: str) -> None:
        self.resources = resources
        self.pseudo = {"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws",
                       "AWS::URLSuffix": "amazonaws.com"}
        self.region, self.account = region, account
        self.key_aliases = {}
        for resource in resources.values():
            target = resource.get("Properties", {}).get("TargetKeyId")
            if resource["Type"] == "AWS::KMS::Alias" and isinstance(target, dict):
                key = target["Ref"] if "Ref" in target else target["Fn::GetAtt"][0]
                self.key_aliases[key] = resource["Properties"]["AliasName"]

    def __call__(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        [(function, argument)] = value.items()
        if function == "Ref":
            return self.pseudo[argument] if argument in self.pseudo else self._attribute(argument, "Ref")
        if function == "Fn::GetAtt":
            return self._attribute(argument[0], argument[1])
        if function == "Fn::Join":
            separator, parts = argument
            return separator.join(self(part) for part in parts)
        if function == "Fn::Sub":
            text, values = (argument, {}) if isinstance(argument, str) else argument
            return re.sub(r"\$\{([^}]+)\}", lambda m: self(values[m.group(1)]) if m.group(1) in values else
                          self({"Ref": m.group(1)} if "." not in m.group(1) else
                               {"Fn::GetAtt": m.group(1).split(".", 1)}), text)
        raise ValueError(f"cannot resolve {function} here")

    def _attribute(self, logical_id: str, attribute: str) -> str:
        resource = self.resources[logical_id]
        kind, properties = resource["Type"], resource.get("Properties", {})
        prefix = f"{self.region}:{self.account}"

        def name(key: str) -> str:
            return self(properties[key]) if key in properties else logical_id

        if kind == "AWS::DynamoDB::GlobalTable":
            return name("TableName") if attribute == "Ref" else f"arn:aws:dynamodb:{prefix}:table/{name('TableName')}"
        if kind == "AWS::S3::Bucket":
            return name("BucketName") if attribute == "Ref" else f"arn:aws:s3:::{name('BucketName')}"
        if kind == "AWS::Events::EventBus":
            return name("Name") if attribute in ("Ref", "Name") else f"arn:aws:events:{prefix}:event-bus/{name('Name')}"
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{prefix}:{name('TopicName')}"
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{name('QueueName')}" \
                if attribute == "Ref" else f"arn:aws:sqs:{prefix}:{name('QueueName')}"
        if kind == "AWS::KMS::Key":
            stand_in = self.key_aliases.get(logical_id, logical_id)
            return stand_in if attribute == "Ref" else f"arn:aws:kms:{prefix}:key/{stand_in}"
        if kind == "AWS::StepFunctions::StateMachine":
            return name("StateMachineName") if attribute == "Name" else \
                f"arn:aws:states:{prefix}:stateMachine:{name('StateMachineName')}"
        if kind == "AWS::Lambda::Function":
            return name("FunctionName") if attribute == "Ref" else f"arn:aws:lambda:{prefix}:function:{name('FunctionName')}"
        if kind == "AWS::Logs::LogGroup":
            return name("LogGroupName") if attribute == "Ref" else \
                f"arn:aws:logs:{prefix}:log-group:{name('LogGroupName')}:*"
        if kind == "AWS::IAM::Role":
            return name("RoleName") if attribute == "Ref" else f"arn:aws:iam::{self.account}:role/{name('RoleName')}"
        return f"{kind}/{logical_id}/{attribute}"
