"""One tenant's stack, emulated in process: the same table layout, bucket, SES identity, state machines
(from the same ASL files) and schedules as the CDK app creates on AWS; Lambda tasks run the real handlers."""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from revisit import clock, lambda_runtime
from revisit.adapters import dynamo_keys
from revisit.adapters.dynamo import TenantTables
from revisit.config import load_tenant
from revisit.models.tenant import TenantConfig
from revisit.offline import seams
from revisit.offline.lambda_dispatch import InProcessLambda, load_handler
from revisit.offline.virtual_time import VirtualClock
from revisit.schedules import ScheduleSpec, tenant_schedules

ROOT = Path(__file__).resolve().parents[3]
FUNCTIONS = ROOT / "functions"
STATE_MACHINES = ROOT / "infra" / "statemachines"
REGION = "us-east-1"
ACCOUNT = "123456789012"
SUBSTITUTION = re.compile(r"\$\{(\w+)\}")


def function_folder_for(variable: str) -> str:
    """`PrepareRecallFunctionArn` names functions/prepare_recall: one convention for CDK and offline."""
    stem = variable.removesuffix("FunctionArn")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", stem).lower()


def function_arn_variable(folder: str) -> str:
    return "".join(part.title() for part in folder.split("_")) + "FunctionArn"


def state_machine_variable(machine: str) -> str:
    return "".join(part.title() for part in machine.split("_")) + "StateMachineArn"


def resource_names(tenant_id: str) -> dict[str, str]:
    """Names of the tenant's resources; the CDK app uses the same."""
    return {
        "table": f"revisit-{tenant_id}",
        "bucket": f"revisit-{tenant_id}-reports-{ACCOUNT}",
        "event_bus": f"revisit-{tenant_id}",
    }


def function_name(tenant_id: str, folder: str) -> str:
    return f"revisit-{tenant_id}-{folder.replace('_', '-')}"


def state_machine_name(tenant_id: str, machine: str) -> str:
    return f"revisit-{tenant_id}-{machine.replace('_', '-')}"


@dataclass
class OfflineStack:
    tenant_file: Path
    start: datetime
    config: TenantConfig = field(init=False)
    clock: VirtualClock = field(init=False)
    lambdas: InProcessLambda = field(init=False)
    state_machine_arns: dict[str, str] = field(default_factory=dict)
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
            "TENANT_ID": self.config.tenant_id, "TABLE_NAME": self.names["table"],
            "REPORTS_BUCKET": self.names["bucket"], "TENANT_CONFIG_PATH": str(self.tenant_file),
            "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("REVISIT_OFFLINE_LOG_LEVEL", "WARNING"),
            "POWERTOOLS_SERVICE_NAME": f"revisit-{self.config.tenant_id}",
        })
        lambda_runtime.apply_logging_environment()
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        self._previous_clock = clock.use_clock(self.clock)
        lambda_runtime.reset_contexts()
        seams.install(self.clock, self.lambdas)
        self._create_resources()
        return self

    def __exit__(self, *exc: object) -> None:
        self.clock.close()
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
        self._set_env({"EVENT_BUS_NAME": self.names["event_bus"]})
        ses = self.client("ses")
        ses.verify_domain_identity(Domain=str(self.config.sender_email).split("@", 1)[1])
        ses.verify_email_identity(EmailAddress=str(self.config.sender_email))
        for folder in sorted(p.parent.name for p in FUNCTIONS.glob("*/handler.py")):
            handler = load_handler(FUNCTIONS / folder / "handler.py", f"revisit_functions.{folder}")
            self.lambdas.register(function_name(self.config.tenant_id, folder), handler)
        self._create_state_machines()
        self._set_env({f"{machine.upper()}_STATE_MACHINE_ARN": arn for machine, arn in self.state_machine_arns.items()})
        self._create_schedules()

    def _create_state_machines(self) -> None:
        sfn = self.client("stepfunctions")
        pending = {p.name.removesuffix(".asl.json"): p.read_text() for p in STATE_MACHINES.glob("*.asl.json")}
        while pending:
            progressed = False
            for machine, text in sorted(pending.items()):
                values = {}
                for variable in set(SUBSTITUTION.findall(text)):
                    values[variable] = self._substitution(variable)
                if any(v is None for v in values.values()):
                    continue  # needs a state machine not created yet
                definition = SUBSTITUTION.sub(lambda m: values[m.group(1)], text)
                arn = sfn.create_state_machine(
                    name=state_machine_name(self.config.tenant_id, machine), definition=definition,
                    roleArn=f"arn:aws:iam::{ACCOUNT}:role/revisit-{self.config.tenant_id}-{machine}",
                )["stateMachineArn"]
                self.state_machine_arns[machine] = arn
                del pending[machine]
                progressed = True
            if not progressed:
                raise RuntimeError(f"state machines reference each other in a cycle: {sorted(pending)}")

    def _substitution(self, variable: str) -> str | None:
        if variable.endswith("FunctionArn"):
            folder = function_folder_for(variable)
            if not (FUNCTIONS / folder / "handler.py").exists():
                raise RuntimeError(f"ASL names ${{{variable}}} but functions/{folder}/handler.py does not exist")
            return self.lambdas.arn(function_name(self.config.tenant_id, folder))
        if variable.endswith("StateMachineArn"):
            machine = function_folder_for(variable.removesuffix("StateMachineArn") + "FunctionArn")
            return self.state_machine_arns.get(machine)
        raise RuntimeError(f"unknown ASL substitution ${{{variable}}}")

    def _create_schedules(self) -> None:
        scheduler = self.client("scheduler")
        for spec in tenant_schedules(self.config):
            scheduler.create_schedule(
                Name=spec.name, ScheduleExpression=spec.expression, ScheduleExpressionTimezone=spec.time_zone,
                FlexibleTimeWindow={"Mode": "OFF"},
                Target={"Arn": self.state_machine_arns[spec.state_machine],
                        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/revisit-{self.config.tenant_id}-scheduler",
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
