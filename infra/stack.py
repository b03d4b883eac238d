"""One stack per tenant, assembled from constructs by concern (infra/constructs/): data, observability,
reports, messaging, workflows (functions and state machines), schedules. The cdk-nag acknowledgments,
each with its reason, are here."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Acknowledgment, CfnOutput, Stack, Tags, Token, Validations
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from revisit import __version__, topology
from revisit.models.tenant import TenantConfig

from infra.constructs.api import STAGE, Api
from infra.constructs.dashboard import OpsDashboard
from infra.constructs.data import Data
from infra.constructs.messaging import Messaging
from infra.constructs.observability import Observability
from infra.constructs.reports import Reports
from infra.constructs.schedules import Schedules
from infra.constructs.staff import StaffConsole
from infra.constructs.workflows import Workflows


class RevisitStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: TenantConfig, tenant_file: Path,
                 layer_dir: Path, declared: topology.Topology = topology.TOPOLOGY, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        tenant = config.tenant_id
        data = Data(self, "Data", tenant_id=tenant)
        observability = Observability(self, "Observability", tenant_id=tenant, key=data.key,
                                      ops_email=str(config.ops_email or config.admin_email))
        reports = Reports(self, "Reports", key=data.key,
                          bucket_name=topology.reports_bucket_name(tenant, self.account))
        messaging = Messaging(self, "Messaging", sender_email=str(config.sender_email),
                              configuration_set=config.ses_configuration_set)
        layers = [
            lambda_.LayerVersion(self, "RevisitLayer", code=lambda_.Code.from_asset(str(layer_dir)),
                                 compatible_runtimes=[lambda_.Runtime.PYTHON_3_14],
                                 description="revisit package and its third-party dependencies"),
            lambda_.LayerVersion(self, "TenantConfigLayer", code=lambda_.Code.from_asset(
                str(_tenant_config_dir(config, layer_dir.parent / f"tenant-{tenant}")))),
        ]
        # The tenant's bus: appointment changes for integrations and the other workflows.
        bus = events.EventBus(self, "Bus", event_bus_name=topology.event_bus_name(tenant), kms_key=data.key)
        workflows = Workflows(self, "Workflows", tenant_id=tenant, key=data.key, links_key=data.links_key, table=data.table,
                              reports=reports.bucket, bus=bus, messaging=messaging, observability=observability,
                              layers=layers, reserved_concurrency=config.lambda_reserved_concurrency,
                              declared=declared)
        Schedules(self, "Schedules", config=config, key=data.key, machines=workflows.machines,
                  observability=observability, declared=declared)
        api = Api(self, "Api", tenant_id=tenant, key=data.key, functions=workflows.functions,
                  failure_queues=workflows.failure_queues, observability=observability)
        if config.public_api_url is None:  # the links in patients' emails point at the stage itself
            stage_url = f"https://{api.rest_api.rest_api_id}.execute-api.{self.region}.{self.url_suffix}/{STAGE}"
            for folder, needs in declared.functions.items():
                if needs.links == topology.LinkUse.SIGN:
                    workflows.functions[folder].add_environment(topology.LINKS_ENVIRONMENT[1], stage_url)

        console = StaffConsole(self, "Staff", tenant_id=tenant, rest_api=api.rest_api, access_logs=reports.access_logs)
        [nightly] = [w.name for w in declared.workflows if w.nightly]
        dashboard = OpsDashboard(self, "Ops", tenant_id=tenant, nightly=nightly, machines=workflows.machines,
                                 rest_api=api.rest_api, observability=observability,
                                 sms_budget_usd=config.sms_monthly_budget_usd)
        # What `revisit doctor` reads back from the deployed stack (docs/deploy.md).
        Tags.of(self).add("revisit:tenant", tenant)
        Tags.of(self).add("revisit:version", __version__)
        CfnOutput(self, "RevisitVersion", value=__version__, description="the Revisit release this stack runs")
        CfnOutput(self, "OpsTopicArn", value=observability.ops_alerts.topic_arn,
                  description="alarms are published here; subscribe the ops address (docs/deploy.md)")
        CfnOutput(self, "NightlyStateMachineArn", value=workflows.machines[nightly].state_machine_arn,
                  description="the nightly sweep: its last execution is last night's result")
        CfnOutput(self, "DashboardName", value=dashboard.dashboard.dashboard_name)
        CfnOutput(self, "ApiUrl", value=api.rest_api.url, description="the booking API's stage")
        CfnOutput(self, "InboundSmsTopicArn", value=api.inbound_sms.topic_arn,
                  description="two-way SMS: each phone number's replies go here (docs/deploy.md, 'SMS')")
        CfnOutput(self, "ConsoleUrl", value=f"https://{console.distribution.distribution_domain_name}/",
                  description="the staff console (sign-in with the tenant's user pool)")
        CfnOutput(self, "StaffUserPoolId", value=console.user_pool.user_pool_id,
                  description="add staff here: user name = staff_id of the tenant file, group = its role")
        CfnOutput(self, "ConsoleBucketName", value=console.site.bucket_name,
                  description="the console's files (revisit deploy uploads them)")
        CfnOutput(self, "ConsoleDistributionId", value=console.distribution.distribution_id)
        CfnOutput(self, "StaffConsoleClientId", value=console.client.user_pool_client_id,
                  description="the console's app client (config.json)")
        CfnOutput(self, "UsagePlanId", value=api.usage_plan.usage_plan_id,
                  description="revisit integrator issue ... --usage-plan-id <this>")

        acknowledge_findings(self)
        if config.lambda_reserved_concurrency is None:
            Validations.of(self).acknowledge(Acknowledgment(
                id="HIPAA.Security::HIPAA.Security-LambdaConcurrency", reason="Reserving concurrency per function "
                "would let only a few tenant stacks fit an account's quota (540 a stack at 20 each); the tenant "
                "file's lambda_reserved_concurrency reserves it where a chain wants it (docs/capacity.md)."))
        granular = ["Resource::*", "Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*",
                    f"Resource::arn:aws:ses:{self.region}:{self._account_in_findings()}:identity/*",
                    f"Resource::<{self._logical(data.table)}.Arn>/index/*",
                    f"Resource::<{self._logical(reports.bucket)}.Arn>/{topology.REPORTS_PREFIX}*"]
        granular += [f"Resource::<{self._logical(fn)}.Arn>:*" for fn in workflows.functions.values()]
        # StopExecution needs an execution ARN: the wildcard is the executions of one state machine.
        granular += [f"Resource::arn:aws:states:{self.region}:{self._account_in_findings()}:execution:"
                     f"{topology.state_machine_name(tenant, machine)}:*"
                     for machine in sorted({m for f in declared.functions.values() for m in f.stops}
                                           | {m for w in declared.workflows for m in w.waits_for})]
        Validations.of(self).acknowledge(*(
            Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[{finding}]", reason=ACKNOWLEDGED[
                "AwsSolutions::AwsSolutions-IAM5"]) for finding in granular))

    def _account_in_findings(self) -> str:
        """cdk-nag names an unresolved account (a synth without CDK_DEFAULT_ACCOUNT) as <AWS::AccountId>."""
        return "<AWS::AccountId>" if Token.is_unresolved(self.account) else self.account

    def _logical(self, construct: Construct) -> str:
        return self.resolve(self.get_logical_id(construct.node.default_child))


# cdk-nag findings accepted on purpose, each with its reason (AwsSolutions and HIPAA Security packs).
ACKNOWLEDGED = {
    "AwsSolutions::AwsSolutions-IAM5": "Wildcards CDK's grants write for one named resource only: the table's "
    "indexes (<table>/index/*), a function's versions (<fn>:*), report objects (<bucket>/reports/*), KMS data-key "
    "actions (GenerateDataKey*); SES identities are narrowed by a ses:FromAddress condition; sns:Publish to "
    "phone numbers has no resource ARN (topics are excluded by NotResource); StopExecution on the executions "
    "of one of the tenant's state machines only (the machines a function starts, revisit.topology), and "
    "DescribeExecution on the executions a machine waits for (startExecution.sync).",
    "AwsSolutions::AwsSolutions-APIG2": "Requests are validated by the API function (Powertools resolver with "
    "pydantic): a 422 names the wrong field, which API Gateway's validator (a bare 400) cannot; the OpenAPI "
    "document is generated from the same models.",
    "AwsSolutions::AwsSolutions-APIG3": "Integrators authenticate with per-tenant revocable credentials and are "
    "throttled by stage limits and a usage plan keyed by the authorizer; a WAF web ACL is an account-level "
    "choice (AWS Firewall Manager) for the tenant's account, not part of this stack.",
    "AwsSolutions::AwsSolutions-COG4": "Integrators are systems, not users: a Lambda authorizer over hashed "
    "per-integrator secrets (docs/architecture.md says why not Cognito client credentials).",
    "HIPAA.Security::HIPAA.Security-APIGWCacheEnabledAndEncrypted": "No API Gateway cache on purpose: responses "
    "carry patient data and availability must never be stale; nothing is cached, so nothing cached is unencrypted.",
    "HIPAA.Security::HIPAA.Security-APIGWSSLEnabled": "The rule is about a client certificate for an HTTP "
    "backend; the only integration is Lambda (AWS_PROXY). Clients reach the API over TLS only.",
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


def _tenant_config_dir(config: TenantConfig, folder: Path) -> Path:
    """The tenant's validated config as JSON, shipped in a small layer at /opt/tenant/tenant.json."""
    (folder / "tenant").mkdir(parents=True, exist_ok=True)
    (folder / "tenant" / "tenant.json").write_text(config.model_dump_json(indent=1))
    return folder
