"""One tenant's stack, emulated in process: the same table layout, bucket, SES identity, state machines
(from the same ASL files) and schedules as the CDK app creates on AWS; Lambda tasks run the real handlers."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from revisit import clock, lambda_runtime, topology
from revisit.adapters import dynamo_keys
from revisit.adapters.dynamo import TenantTables
from revisit.config import load_tenant
from revisit.models.tenant import TenantConfig
from revisit.offline import aws_calls, seams
from revisit.offline.cognito import StaffPool, create_staff_pool
from revisit.offline.lambda_dispatch import InProcessLambda, load_handler
from revisit.offline.virtual_time import VirtualClock
from revisit.schedules import ScheduleSpec, tenant_schedules
from revisit.topology import Topology

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROOT = topology.ROOT


def resource_names(tenant_id: str) -> dict[str, str]:
    """Names of the tenant's resources, as the CDK app names them (revisit.topology)."""
    return {
        "table": topology.table_name(tenant_id),
        "bucket": topology.reports_bucket_name(tenant_id, ACCOUNT),
        "event_bus": topology.event_bus_name(tenant_id),
    }


@dataclass
class OfflineStack:
    tenant_file: Path
    start: datetime
    declared: Topology = topology.TOPOLOGY
    public_url: str = "http://127.0.0.1:8080"
    config: TenantConfig = field(init=False)
    clock: VirtualClock = field(init=False)
    lambdas: InProcessLambda = field(init=False)
    state_machine_arns: dict[str, str] = field(default_factory=dict)
    staff_pool: StaffPool | None = None
    _mock: Any = None
    _previous_clock: Any = None
    _saved_env: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.config = load_tenant(self.tenant_file)
        self.clock = VirtualClock(self.start)
        self.lambdas = InProcessLambda(REGION, ACCOUNT)
        self.names = resource_names(self.config.tenant_id)

    # --- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> OfflineStack:
        self._set_env({
            "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "offline", "AWS_SECRET_ACCESS_KEY": "offline",
            **topology.function_environment(self.config.tenant_id, self.names["table"], self.names["bucket"],
                                            str(self.tenant_file)),
            "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("REVISIT_OFFLINE_LOG_LEVEL", "WARNING"),
        })
        lambda_runtime.apply_logging_environment()
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        self._previous_clock = clock.use_clock(self.clock)
        lambda_runtime.reset_contexts()
        seams.install(self.clock, self.lambdas)
        aws_calls.recorder(ACCOUNT)
        self._create_resources()
        return self

    def __exit__(self, *exc: object) -> None:
        self.clock.close()
        aws_calls.save_if_asked()
        seams.uninstall()
        clock.use_clock(self._previous_clock)
        lambda_runtime.reset_contexts()
        self._mock.stop()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def _set_env(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    # --- resources ----------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    @property
    def table(self) -> Any:
        return boto3.resource("dynamodb", region_name=REGION).Table(self.names["table"])

    @property
    def tables(self) -> TenantTables:
        return TenantTables(self.table, self.config)

    def _create_resources(self) -> None:
        ddb = self.client("dynamodb")
        ddb.create_table(**dynamo_keys.table_definition(self.names["table"]))
        ddb.update_time_to_live(TableName=self.names["table"],
                                TimeToLiveSpecification={"Enabled": True, "AttributeName": dynamo_keys.TTL_ATTRIBUTE})
        self.client("s3").create_bucket(Bucket=self.names["bucket"])
        self.client("events").create_event_bus(Name=self.names["event_bus"])
        self._set_env({topology.EVENT_BUS_ENVIRONMENT: self.names["event_bus"]})
        kms = self.client("kms")
        links_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC",
                                   Description="patients' links")["KeyMetadata"]["KeyId"]
        links_alias = f"alias/{topology.resource_name(self.config.tenant_id, 'links')}"  # as the CDK app names it
        kms.create_alias(AliasName=links_alias, TargetKeyId=links_key)
        aws_calls.recorder(ACCOUNT).key_names[links_key] = links_alias
        # The links point at `revisit serve` on its default port (the stage's address on AWS).
        self._set_env(dict(zip(topology.LINKS_ENVIRONMENT, (links_key, self.public_url), strict=True)))
        ses = self.client("ses")
        ses.verify_domain_identity(Domain=str(self.config.sender_email).split("@", 1)[1])
        ses.verify_email_identity(EmailAddress=str(self.config.sender_email))
        if self.config.ses_configuration_set:  # made by the operator on AWS (docs/deploy.md); the stack names it
            self.client("sesv2").create_configuration_set(ConfigurationSetName=self.config.ses_configuration_set)
            self._set_env({"SES_CONFIGURATION_SET": self.config.ses_configuration_set})
        # Staff sign-in (issue 15): the tenant's user pool, a user per staff member of the tenant file.
        self.staff_pool = create_staff_pool(self.client("cognito-idp"), self.config,
                                            topology.resource_name(self.config.tenant_id, "staff"))
        tenant = self.config.tenant_id
        for folder in self.declared.functions:
            handler = load_handler(self.declared.handler_path(folder), f"revisit_functions.{folder}")
            self.lambdas.register(topology.function_name(tenant, folder), handler)
        sfn = self.client("stepfunctions")
        for workflow in self.declared.creation_order():
            text, values = self.declared.definition(
                workflow, lambda folder: self.lambdas.arn(topology.function_name(tenant, folder)),
                lambda machine: self.state_machine_arns[machine])
            self.state_machine_arns[workflow.name] = sfn.create_state_machine(
                name=topology.state_machine_name(tenant, workflow.name),
                definition=topology.SUBSTITUTION.sub(lambda m, v=values: v[m.group(1)], text),
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/{topology.resource_name(tenant, workflow.name)}",
            )["stateMachineArn"]
        # One process plays every function: each machine's ARN is in the environment (on AWS only the
        # functions that start it get it).
        self._set_env({topology.state_machine_environment(machine): arn
                       for machine, arn in self.state_machine_arns.items()})
        self._create_schedules()
        self._create_event_rules()

    def _create_event_rules(self) -> None:
        """As on AWS: a rule on the tenant's bus fills each consuming function's queue (moto matches the
        pattern); `deliver_events` then plays Lambda's queue poller."""
        tenant, sqs, events = self.config.tenant_id, self.client("sqs"), self.client("events")
        self.event_queues: dict[str, str] = {}
        for folder, needs in self.declared.functions.items():
            if not needs.consumes:
                continue
            url = sqs.create_queue(QueueName=topology.events_queue_name(tenant, folder))["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            rule = topology.events_rule_name(tenant, folder)
            events.put_rule(Name=rule, EventBusName=self.names["event_bus"], EventPattern=json.dumps(
                {"source": [topology.EVENTS_SOURCE], "detail-type": list(needs.consumes)}))
            events.put_targets(Rule=rule, EventBusName=self.names["event_bus"], Targets=[{"Id": "queue", "Arn": arn}])
            self.event_queues[folder] = url

    def deliver_events(self) -> int:
        """Lambda's SQS poller, offline: each consuming function receives its queue's messages in batches of
        ten (with its own role, as the poller does on AWS) and what it reports done is deleted. Returns how
        many messages were delivered."""
        delivered = 0
        sqs = self.client("sqs")
        for folder, url in getattr(self, "event_queues", {}).items():
            name = topology.function_name(self.config.tenant_id, folder)
            while True:
                with aws_calls.acting_as(aws_calls.function_principal(name)):
                    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
                if not messages:
                    break
                records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                            "eventSource": "aws:sqs"} for m in messages]
                answer = json.loads(self.lambdas.invoke(FunctionName=name, Payload=json.dumps(
                    {"Records": records}).encode())["Payload"].read() or b"{}")
                failed = {f["itemIdentifier"] for f in (answer.get("batchItemFailures") or [])} \
                    if "errorType" not in answer else {m["MessageId"] for m in messages}
                done = [m for m in messages if m["MessageId"] not in failed]
                if done:
                    with aws_calls.acting_as(aws_calls.function_principal(name)):
                        sqs.delete_message_batch(QueueUrl=url, Entries=[
                            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
                delivered += len(messages)
                if failed:
                    break  # they come back after the queue's visibility timeout, as on AWS
        return delivered

    def _create_schedules(self) -> None:
        scheduler = self.client("scheduler")
        for spec in tenant_schedules(self.config, self.declared):
            scheduler.create_schedule(
                Name=spec.name, ScheduleExpression=spec.expression, ScheduleExpressionTimezone=spec.time_zone,
                FlexibleTimeWindow={"Mode": "OFF"},
                Target={"Arn": self.state_machine_arns[spec.state_machine],
                        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/{topology.resource_name(self.config.tenant_id, 'scheduler')}",
                        "Input": json.dumps(spec.input)},
            )

    def schedules(self) -> list[ScheduleSpec]:
        """Read back from the emulated EventBridge Scheduler, the way AWS would fire them."""
        scheduler = self.client("scheduler")
        specs = []
        for summary in scheduler.list_schedules()["Schedules"]:
            schedule = scheduler.get_schedule(Name=summary["Name"])
            machine = next(m for m, arn in self.state_machine_arns.items() if arn == schedule["Target"]["Arn"])
            specs.append(ScheduleSpec(name=schedule["Name"], expression=schedule["ScheduleExpression"],
                                      time_zone=schedule["ScheduleExpressionTimezone"], state_machine=machine,
                                      input=json.loads(schedule["Target"]["Input"])))
        return specs

    # --- running ------------------------------------------------------------------------------
    def start_execution(self, machine: str, name: str, payload: dict) -> str:
        return self.client("stepfunctions").start_execution(
            stateMachineArn=self.state_machine_arns[machine], name=name, input=json.dumps(payload)
        )["executionArn"]
