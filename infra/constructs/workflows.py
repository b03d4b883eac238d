"""The step functions (one Lambda and one least-privilege role per folder in functions/) and the state
machines, loaded from the same ASL files the offline runtime executes and inlined so cfn-lint checks them."""

from __future__ import annotations

import re
from pathlib import Path

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs.messaging import Messaging
from infra.constructs.naming import camel, snake
from infra.constructs.observability import Observability

ROOT = Path(__file__).resolve().parents[2]
SUBSTITUTION = re.compile(r"\$\{(\w+)\}")
MACHINES = ("recall", "sweep", "appointment")  # in creation order: the sweep starts the recall

# What each function may do, beyond writing its own logs: least privilege, one role per function.
NEEDS = {
    "prepare_recall": {"table": "rw"},
    "create_recall_tasks": {"table": "rw"},
    "verify_insurance": {"table": "rw"},
    "contact_patient": {"table": "rw", "sms": True, "email": True},
    "plan_sweep": {},
    "select_due_patients": {"table": "r"},
    "count_upcoming": {"table": "r"},
    "write_recall_report": {"table": "r", "reports": True},
    "alert_lead_dentist": {"table": "rw", "email": True},
    "email_admin_summary": {"table": "rw", "email": True},
    "send_appointment_notice": {"table": "rw", "sms": True, "email": True},
    # Behind API Gateway and the inbound-SMS topic (infra/constructs/api.py grants the rest).
    "api": {"table": "rw", "events": True, "appointments": True},
    "api_authorizer": {"table": "r"},
    "inbound_sms": {"table": "rw", "sms": True},
}


class Workflows(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, tenant_id: str, key: kms.IKey,
                 table: dynamodb.ITableV2, reports: s3.IBucket, messaging: Messaging,
                 observability: Observability, layers: list[lambda_.ILayerVersion]) -> None:
        super().__init__(scope, construct_id)
        self.functions: dict[str, lambda_.Function] = {}
        for folder, needs in NEEDS.items():
            role = iam.Role(self, f"{camel(folder)}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
            log_group = observability.log_group(self, f"{camel(folder)}Logs")
            function = lambda_.Function(
                self, camel(folder), function_name=f"revisit-{tenant_id}-{folder.replace('_', '-')}",
                runtime=lambda_.Runtime.PYTHON_3_14, handler="handler.lambda_handler",
                code=lambda_.Code.from_asset(str(ROOT / "functions" / folder)), layers=layers,
                role=role, memory_size=512, reserved_concurrent_executions=20, timeout=Duration.seconds(60),
                tracing=lambda_.Tracing.ACTIVE, log_group=log_group, environment_encryption=key,
                environment={"TENANT_ID": tenant_id, "TABLE_NAME": table.table_name,
                             "REPORTS_BUCKET": reports.bucket_name, "TENANT_CONFIG_PATH": "/opt/tenant/tenant.json",
                             "POWERTOOLS_SERVICE_NAME": f"revisit-{tenant_id}", "POWERTOOLS_METRICS_NAMESPACE": "Revisit"},
            )
            log_group.grant_write(role)
            if needs.get("table") == "rw":
                table.grant_read_write_data(role)
            elif needs.get("table") == "r":
                table.grant_read_data(role)
            if needs.get("reports"):
                reports.grant_put(role)
            if needs.get("sms"):
                messaging.allow_sms(role)
            if needs.get("email"):
                messaging.allow_email(role)
            self.functions[folder] = function

        self.machines: dict[str, sfn.StateMachine] = {}
        for machine in MACHINES:
            text = (ROOT / "infra" / "statemachines" / f"{machine}.asl.json").read_text()
            values = {}
            for variable in set(SUBSTITUTION.findall(text)):
                if variable.endswith("FunctionArn"):
                    values[variable] = self.functions[snake(variable.removesuffix("FunctionArn"))].function_arn
                else:
                    values[variable] = self.machines[snake(variable.removesuffix("StateMachineArn"))].state_machine_arn
            state_machine = sfn.StateMachine(
                self, f"{camel(machine)}Machine", state_machine_name=f"revisit-{tenant_id}-{machine}",
                definition_body=sfn.DefinitionBody.from_string(text), definition_substitutions=values,
                tracing_enabled=True,
                logs=sfn.LogOptions(destination=observability.log_group(self, f"{camel(machine)}MachineLogs"),
                                    level=sfn.LogLevel.ALL, include_execution_data=False),
            )
            for variable in values:
                if variable.endswith("FunctionArn"):
                    self.functions[snake(variable.removesuffix("FunctionArn"))].grant_invoke(state_machine)
            self.machines[machine] = state_machine
            observability.alarm(f"{camel(machine)}Failures", metric=state_machine.metric_failed(
                period=Duration.minutes(5)), threshold=1, evaluation_periods=1,
                alarm_description=f"{machine} executions failed")
        self.machines["recall"].grant_start_execution(self.machines["sweep"])
        appointment = self.machines["appointment"]
        for folder, needs in NEEDS.items():
            if needs.get("appointments"):
                function = self.functions[folder]
                function.add_environment("APPOINTMENT_STATE_MACHINE_ARN", appointment.state_machine_arn)
                appointment.grant_start_execution(function)
                function.add_to_role_policy(iam.PolicyStatement(
                    actions=["states:StopExecution"],
                    resources=[f"arn:aws:states:{Stack.of(self).region}:{Stack.of(self).account}:execution:"
                               f"revisit-{tenant_id}-appointment:*"]))
        observability.alarm("MessagesNotSent", metric=cloudwatch.Metric(
            namespace="Revisit", metric_name="MessagesNotSent", dimensions_map={"tenant": tenant_id},
            period=Duration.minutes(15), statistic="Sum"), threshold=1, evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description="recall messages the provider refused or whose sending is unconfirmed")
