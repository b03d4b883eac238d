"""One stack per tenant: data, reports, functions, workflows, schedules, observability.

State machines come from the same ASL files the offline runtime executes, inlined so cfn-lint checks them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Token, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from revisit.adapters import dynamo_keys
from revisit.models.tenant import TenantConfig
from revisit.schedules import tenant_schedules

ROOT = Path(__file__).resolve().parents[1]
SUBSTITUTION = re.compile(r"\$\{(\w+)\}")

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
}


class RevisitStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: TenantConfig, tenant_file: Path,
                 layer_dir: Path, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        tenant = config.tenant_id
        key = kms.Key(self, "DataKey", enable_key_rotation=True, alias=f"alias/revisit-{tenant}",
                      removal_policy=RemovalPolicy.RETAIN)
        key.add_to_resource_policy(iam.PolicyStatement(
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            principals=[iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com")], resources=["*"]))
        ops_alerts = sns.Topic(self, "OpsAlerts", master_key=key, enforce_ssl=True)

        definition = dynamo_keys.table_definition(f"revisit-{tenant}")
        table = dynamodb.TableV2(
            self, "Table", table_name=definition["TableName"],
            partition_key=dynamodb.Attribute(name=dynamo_keys.PK, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=dynamo_keys.SK, type=dynamodb.AttributeType.STRING),
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(key),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            deletion_protection=True, time_to_live_attribute=dynamo_keys.TTL_ATTRIBUTE,
            removal_policy=RemovalPolicy.RETAIN,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=name,
                    partition_key=dynamodb.Attribute(name=pk, type=dynamodb.AttributeType.STRING),
                    sort_key=dynamodb.Attribute(name=sk, type=dynamodb.AttributeType.STRING),
                    projection_type=dynamodb.ProjectionType.INCLUDE if projected else dynamodb.ProjectionType.ALL,
                    non_key_attributes=projected,
                )
                for name, (pk, sk, projected) in dynamo_keys.INDEXES.items()
            ],
        )

        access_logs = s3.Bucket(self, "AccessLogs", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
                                block_public_access=s3.BlockPublicAccess.BLOCK_ALL, versioned=True,
                                removal_policy=RemovalPolicy.RETAIN)
        reports = s3.Bucket(self, "Reports", encryption=s3.BucketEncryption.KMS, encryption_key=key,
                            enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL, versioned=True,
                            server_access_logs_bucket=access_logs, server_access_logs_prefix="reports/",
                            removal_policy=RemovalPolicy.RETAIN)

        layer = lambda_.LayerVersion(self, "RevisitLayer", code=lambda_.Code.from_asset(str(layer_dir)),
                                     compatible_runtimes=[lambda_.Runtime.PYTHON_3_14],
                                     description="revisit package and its third-party dependencies")
        tenant_layer = lambda_.LayerVersion(self, "TenantConfigLayer", code=lambda_.Code.from_asset(
            str(_tenant_config_dir(config, layer_dir.parent / f"tenant-{tenant}"))))

        functions: dict[str, lambda_.Function] = {}
        for folder, needs in NEEDS.items():
            role = iam.Role(self, f"{_camel(folder)}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
            log_group = logs.LogGroup(self, f"{_camel(folder)}Logs", retention=logs.RetentionDays.ONE_YEAR,
                                      encryption_key=key, removal_policy=RemovalPolicy.RETAIN)
            function = lambda_.Function(
                self, _camel(folder), function_name=f"revisit-{tenant}-{folder.replace('_', '-')}",
                runtime=lambda_.Runtime.PYTHON_3_14, handler="handler.lambda_handler",
                code=lambda_.Code.from_asset(str(ROOT / "functions" / folder)), layers=[layer, tenant_layer],
                role=role, memory_size=512, reserved_concurrent_executions=20, timeout=Duration.seconds(60), tracing=lambda_.Tracing.ACTIVE,
                log_group=log_group, environment_encryption=key,
                environment={"TENANT_ID": tenant, "TABLE_NAME": table.table_name,
                             "REPORTS_BUCKET": reports.bucket_name, "TENANT_CONFIG_PATH": "/opt/tenant/tenant.json",
                             "POWERTOOLS_SERVICE_NAME": f"revisit-{tenant}", "POWERTOOLS_METRICS_NAMESPACE": "Revisit"},
            )
            log_group.grant_write(role)
            if needs.get("table") == "rw":
                table.grant_read_write_data(role)
            elif needs.get("table") == "r":
                table.grant_read_data(role)
            if needs.get("reports"):
                reports.grant_put(role)
            if needs.get("sms"):
                role.add_to_policy(iam.PolicyStatement(actions=["sns:Publish"], not_resources=["arn:aws:sns:*:*:*"]))
            if needs.get("email"):
                role.add_to_policy(iam.PolicyStatement(
                    actions=["ses:SendEmail", "ses:SendRawEmail"],
                    resources=[f"arn:aws:ses:{self.region}:{self.account}:identity/*"],
                    conditions={"StringEquals": {"ses:FromAddress": str(config.sender_email)}}))
            functions[folder] = function

        machines: dict[str, sfn.StateMachine] = {}
        for machine in ("recall", "sweep"):  # recall first: the sweep starts it
            text = (ROOT / "infra" / "statemachines" / f"{machine}.asl.json").read_text()
            values = {}
            for variable in set(SUBSTITUTION.findall(text)):
                if variable.endswith("FunctionArn"):
                    values[variable] = functions[_snake(variable.removesuffix("FunctionArn"))].function_arn
                else:
                    values[variable] = machines[_snake(variable.removesuffix("StateMachineArn"))].state_machine_arn
            log_group = logs.LogGroup(self, f"{_camel(machine)}MachineLogs", retention=logs.RetentionDays.ONE_YEAR,
                                      encryption_key=key, removal_policy=RemovalPolicy.RETAIN)
            state_machine = sfn.StateMachine(
                self, f"{_camel(machine)}Machine", state_machine_name=f"revisit-{tenant}-{machine}",
                definition_body=sfn.DefinitionBody.from_string(text), definition_substitutions=values,
                tracing_enabled=True,
                logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            )
            for variable in values:
                if variable.endswith("FunctionArn"):
                    functions[_snake(variable.removesuffix("FunctionArn"))].grant_invoke(state_machine)
            machines[machine] = state_machine
            _notify(ops_alerts, cloudwatch.Alarm(self, f"{_camel(machine)}Failures", metric=state_machine.metric_failed(
                period=Duration.minutes(5)), threshold=1, evaluation_periods=1,
                alarm_description=f"{machine} executions failed"))
        machines["recall"].grant_start_execution(machines["sweep"])
        _notify(ops_alerts, cloudwatch.Alarm(self, "MessagesNotSent", metric=cloudwatch.Metric(
            namespace="Revisit", metric_name="MessagesNotSent", dimensions_map={"tenant": tenant},
            period=Duration.minutes(15), statistic="Sum"), threshold=1, evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description="recall messages the provider refused or whose sending is unconfirmed"))

        scheduler_role = iam.Role(self, "SchedulerRole", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"))
        for spec in tenant_schedules(config):
            machines[spec.state_machine].grant_start_execution(scheduler_role)
            scheduler.CfnSchedule(
                self, f"Schedule{_camel(spec.state_machine)}", name=spec.name,
                schedule_expression=spec.expression, schedule_expression_timezone=spec.time_zone,
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=machines[spec.state_machine].state_machine_arn, role_arn=scheduler_role.role_arn,
                    input=json.dumps(spec.input)),
            )

        acknowledge_findings(self)
        granular = ["Resource::*", "Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*", "Action::s3:Abort*",
                    f"Resource::arn:aws:ses:{self.region}:{self._account_in_findings()}:identity/*",
                    f"Resource::<{self._logical(table)}.Arn>/index/*", f"Resource::<{self._logical(reports)}.Arn>/*"]
        granular += [f"Resource::<{self._logical(fn)}.Arn>:*" for fn in functions.values()]
        Validations.of(self).acknowledge(*(
            Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[{finding}]", reason=ACKNOWLEDGED[
                "AwsSolutions::AwsSolutions-IAM5"]) for finding in granular))

    def _account_in_findings(self) -> str:
        """cdk-nag names an unresolved account (a synth without CDK_DEFAULT_ACCOUNT) as <AWS::AccountId>."""
        return "<AWS::AccountId>" if Token.is_unresolved(self.account) else self.account

    def _logical(self, construct: Construct) -> str:
        return self.resolve(self.get_logical_id(construct.node.default_child))


def _notify(topic: sns.Topic, alarm: cloudwatch.Alarm) -> None:
    action = cloudwatch_actions.SnsAction(topic)
    alarm.add_alarm_action(action)
    alarm.add_ok_action(action)
    alarm.add_insufficient_data_action(action)


# cdk-nag findings accepted on purpose, each with its reason (AwsSolutions and HIPAA Security packs).
ACKNOWLEDGED = {
    "AwsSolutions::AwsSolutions-IAM5": "Wildcards CDK's grants write for one named resource only: the table's "
    "indexes (<table>/index/*), a function's versions (<fn>:*), report objects (<bucket>/*), KMS data-key "
    "actions (GenerateDataKey*); SES identities are narrowed by a ses:FromAddress condition; sns:Publish to "
    "phone numbers has no resource ARN (topics are excluded by NotResource).",
    "HIPAA.Security::HIPAA.Security-IAMNoInlinePolicy": "Each function has its own role whose policy CDK "
    "generates from the grants; a managed policy per function would add nothing but indirection.",
    "HIPAA.Security::HIPAA.Security-LambdaDLQ": "Every function is invoked synchronously by Step Functions, "
    "which retries and then fails the execution (alarmed); a DLQ only applies to asynchronous invocations.",
    "HIPAA.Security::HIPAA.Security-LambdaInsideVPC": "The functions reach only AWS APIs (DynamoDB, S3, SNS, "
    "SES) over TLS with IAM; a VPC adds NAT or endpoint cost without narrowing that path.",
    "HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled": "Per-tenant single-region deployment: reports "
    "are versioned, retained and re-creatable from DynamoDB (point-in-time recovery).",
    "HIPAA.Security::HIPAA.Security-S3DefaultEncryptionKMS": "Applies to the access-log bucket only: S3 server "
    "access logging cannot deliver to a KMS-encrypted bucket; the reports bucket uses the tenant's KMS key.",
}


def acknowledge_findings(stack: Stack) -> None:
    Validations.of(stack).acknowledge(*(Acknowledgment(id=rule, reason=why) for rule, why in ACKNOWLEDGED.items()))


def _camel(snake: str) -> str:
    return "".join(part.title() for part in snake.split("_"))


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


def _tenant_config_dir(config: TenantConfig, folder: Path) -> Path:
    """The tenant's validated config as JSON, shipped in a small layer at /opt/tenant/tenant.json."""
    (folder / "tenant").mkdir(parents=True, exist_ok=True)
    (folder / "tenant" / "tenant.json").write_text(config.model_dump_json(indent=1))
    return folder
