"""cdk synth of a two-tenant app, with assertions on what each tenant's template must hold."""

import json

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk.assertions import Match, Template
from revisit.topology import TOPOLOGY

from app import build
from tests.conftest import DEMO_TENANT, ROOT


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    folder = tmp_path_factory.mktemp("infra")
    second = yaml.safe_load(DEMO_TENANT.read_text())
    second.update(tenant_id="north", name="North Dental", time_zone="America/New_York")
    (folder / "north.yaml").write_text(yaml.safe_dump(second, allow_unicode=True))
    layer = folder / "layer" / "python"
    layer.mkdir(parents=True)
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    app = cdk.App(outdir=str(folder / "cdk.out"), context=context)
    stacks = build(app, [DEMO_TENANT, folder / "north.yaml"], layer.parent,
                   cdk.Environment(account="123456789012", region="eu-west-1"))
    return {stack.stack_name: Template.from_stack(stack) for stack in stacks}


def test_one_stack_per_tenant(templates):
    assert sorted(templates) == ["Revisit-demo", "Revisit-north"]


def test_table_is_encrypted_with_a_customer_key_recoverable_and_protected(templates):
    template = templates["Revisit-demo"]
    template.has_resource_properties("AWS::DynamoDB::GlobalTable", {
        "TableName": "revisit-demo",
        "SSESpecification": Match.object_like({"SSEEnabled": True, "SSEType": "KMS"}),
        "Replicas": [Match.object_like({
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "DeletionProtectionEnabled": True,
        })],
        "GlobalSecondaryIndexes": Match.array_with([Match.object_like({"IndexName": "gsi_due"})]),
    })
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_state_machines_are_the_asl_files_inlined(templates):
    machines = templates["Revisit-north"].find_resources("AWS::StepFunctions::StateMachine")
    bodies = json.dumps(machines)
    assert "OpenRecall" in bodies and "SelectDuePatients" in bodies
    assert "revisit-north-recall" in bodies
    for machine in machines.values():
        assert machine["Properties"]["TracingConfiguration"] == {"Enabled": True}
        assert "LoggingConfiguration" in machine["Properties"]


def test_every_function_has_its_own_role(templates):
    template = templates["Revisit-demo"]
    functions = template.find_resources("AWS::Lambda::Function")
    roles = {json.dumps(f["Properties"]["Role"]) for f in functions.values()}
    names = {f["Properties"]["FunctionName"] for f in functions.values()}
    assert names == {f"revisit-demo-{folder.replace('_', '-')}" for folder in TOPOLOGY.functions}
    assert len(roles) == len(TOPOLOGY.functions)
    for function in functions.values():
        assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}


def test_only_the_steps_that_message_patients_may_send_sms(templates):
    policies = templates["Revisit-demo"].find_resources("AWS::IAM::Policy")
    senders = sorted(name for name, policy in policies.items() if "sns:Publish" in json.dumps(policy))
    assert [name.split("Role")[0] for name in senders] == [
        "WorkflowsContactPatient", "WorkflowsInboundSms", "WorkflowsReactivate", "WorkflowsSendAppointmentNotice"]


def test_nightly_sweep_is_scheduled_in_the_tenant_time_zone(templates):
    templates["Revisit-north"].has_resource_properties("AWS::Scheduler::Schedule", {
        "ScheduleExpression": "cron(0 2 * * ? *)",
        "ScheduleExpressionTimezone": "America/New_York",
    })


def test_alarms_on_failed_executions_and_unsent_messages(templates):
    alarms = templates["Revisit-demo"].find_resources("AWS::CloudWatch::Alarm")
    names = json.dumps(alarms)
    assert "ExecutionsFailed" in names and "MessagesNotSent" in names


def test_templates_pass_cfn_lint(tmp_path_factory, templates):
    from cfnlint.api import ManualArgs, lint

    for name, template in templates.items():
        body = json.dumps(template.to_json())
        # W3005 (a DependsOn CDK writes that is also implied) is noise on CDK templates.
        matches = lint(body, config=ManualArgs(regions=["eu-west-1"], ignore_checks=["W3005"]))
        assert [str(m) for m in matches] == [], name


def test_cdk_nag_aws_solutions_and_hipaa_have_no_unacknowledged_findings(tmp_path):
    import cdk_nag

    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    app = cdk.App(outdir=str(tmp_path / "cdk.out"), context=context)
    layer = tmp_path / "layer" / "python"
    layer.mkdir(parents=True)
    build(app, [DEMO_TENANT], layer.parent, cdk.Environment(account="123456789012", region="eu-west-1"))
    cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app), cdk_nag.HIPAASecurityChecks(app))
    assembly = app.synth()  # raises ValidationFailed on any finding without an acknowledgment (each has a reason)
    assert [s.stack_name for s in assembly.stacks] == ["Revisit-demo"]


def test_the_booking_api_has_an_authorizer_access_logs_throttling_and_a_usage_plan(templates):
    template = templates["Revisit-demo"]
    # the integrators' Lambda authorizer, and the staff user pool's for /staff (issue 15)
    template.resource_count_is("AWS::ApiGateway::Authorizer", 2)
    template.has_resource_properties("AWS::ApiGateway::Authorizer", {"Type": "REQUEST", "AuthorizerResultTtlInSeconds": 300})
    template.has_resource_properties("AWS::ApiGateway::Authorizer", {"Type": "COGNITO_USER_POOLS"})
    staff = [m for m in template.find_resources("AWS::ApiGateway::Method").values()
             if m["Properties"]["AuthorizationType"] == "COGNITO_USER_POOLS"]
    assert [m["Properties"]["HttpMethod"] for m in staff] == ["ANY"]
    template.has_resource_properties("AWS::ApiGateway::RestApi", {"ApiKeySourceType": "AUTHORIZER"})
    stage = next(iter(template.find_resources("AWS::ApiGateway::Stage").values()))["Properties"]
    assert "AccessLogSetting" in stage and stage["TracingEnabled"] is True
    assert stage["MethodSettings"][0]["ThrottlingRateLimit"] == 50
    assert stage["MethodSettings"][0]["DataTraceEnabled"] is False
    template.resource_count_is("AWS::ApiGateway::UsagePlan", 1)
    methods = template.find_resources("AWS::ApiGateway::Method")
    unauthenticated = [m for m in methods.values() if m["Properties"]["AuthorizationType"] == "NONE"]
    # /health, the unsubscribe link, the self-booking link (X11)
    assert sorted(m["Properties"]["HttpMethod"] for m in unauthenticated) == ["GET", "GET", "GET", "POST", "POST"]
    paths = {r["Properties"]["PathPart"] for r in template.find_resources("AWS::ApiGateway::Resource").values()}
    assert {"health", "unsubscribe", "b", "{token}"} <= paths


def test_only_the_senders_sign_links_and_only_the_api_checks_them(templates):
    """X5, X11: the links' HMAC key; GenerateMac for the functions that send links, nothing for anyone else
    (the API finds a link by its id in the table)."""
    template = templates["Revisit-demo"]
    keys = template.find_resources("AWS::KMS::Key", {"Properties": {"KeySpec": "HMAC_256"}})
    assert len(keys) == 1
    [(key_id, key)] = keys.items()
    assert key["Properties"]["KeyUsage"] == "GENERATE_VERIFY_MAC"
    users: dict[str, set[str]] = {}
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            resources = statement.get("Resource", [])
            resources = resources if isinstance(resources, list) else [resources]
            if {"Fn::GetAtt": [key_id, "Arn"]} in resources:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                for role in policy["Properties"]["Roles"]:
                    users.setdefault(role["Ref"], set()).update(actions)
    assert sorted(users.values(), key=sorted) == [{"kms:GenerateMac"}] * 3  # the API reads links, no KMS call
    signers = sorted(role for role, actions in users.items() if actions == {"kms:GenerateMac"})
    # X5 and X11: the recall and reactivation messages (unsubscribe, booking links), the appointment notices
    assert "ContactPatient" in signers[0] and "Reactivate" in signers[1] and "SendAppointmentNotice" in signers[2]
    functions = template.find_resources("AWS::Lambda::Function")
    contact = next(f for f in functions.values() if f["Properties"]["FunctionName"] == "revisit-demo-contact_patient"
                   or f["Properties"]["FunctionName"] == "revisit-demo-contact-patient")
    env = contact["Properties"]["Environment"]["Variables"]
    assert env["LINKS_KEY_ID"] == {"Ref": key_id} and "Fn::Join" in env["PUBLIC_API_URL"]


def test_the_event_bus_and_the_inbound_sms_topic(templates):
    template = templates["Revisit-demo"]
    template.has_resource_properties("AWS::Events::EventBus", {"Name": "revisit-demo"})
    template.has_resource_properties("AWS::SNS::Topic", {"TopicName": "revisit-demo-inbound-sms"})
    template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "lambda"})


def test_a_workflow_added_by_one_declaration_is_synthesized_with_its_grants(tmp_path):
    from revisit.config import load_tenant

    from infra.stack import RevisitStack
    from tests.workflows.test_topology_extension import extended_topology

    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    app = cdk.App(outdir=str(tmp_path / "cdk.out"), context=context)
    layer = tmp_path / "layer" / "python"
    layer.mkdir(parents=True)
    stack = RevisitStack(app, "Revisit-demo", config=load_tenant(DEMO_TENANT), tenant_file=DEMO_TENANT,
                         layer_dir=layer.parent, declared=extended_topology(tmp_path),
                         env=cdk.Environment(account="123456789012", region="eu-west-1"))
    template = Template.from_stack(stack)
    machines = template.find_resources("AWS::StepFunctions::StateMachine", {
        "Properties": {"StateMachineName": "revisit-demo-plan-only"}})
    assert len(machines) == 1
    role = next(iter(machines.values()))["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    policies = [p for p in template.find_resources("AWS::IAM::Policy").values()
                if p["Properties"]["Roles"] == [{"Ref": role}]]
    assert "lambda:InvokeFunction" in json.dumps(policies) and "PlanSweep" in json.dumps(policies)


def test_the_layer_builder_asks_pip_for_linux_wheels_into_the_layer_folder(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_layer", ROOT / "layers" / "build_layer.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    command = builder.pip_command(tmp_path)
    assert command[1:6] == ["-m", "pip", "install", "--quiet", "--target"] and command[6] == str(tmp_path)
    assert "--no-compile" in command  # bytecode of the runtime's Python only (compile_bytecode)
    assert "manylinux2014_x86_64" in command and command[-2:] == ["-r", str(ROOT / "layers" / "requirements.txt")]
    assert command[-4:-2] == ["-c", str(ROOT / "constraints.txt")]


def _key_allows(template, key_ref, service, actions=("kms:GenerateDataKey*", "kms:Decrypt")):
    key = template.to_json()["Resources"][key_ref["Fn::GetAtt"][0] if "Fn::GetAtt" in key_ref else key_ref["Ref"]]
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        principals = statement.get("Principal", {}).get("Service", [])
        principals = [principals] if isinstance(principals, str) else principals
        granted = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        conditions = json.dumps(statement.get("Condition", {}))
        if service in principals and all(a in granted for a in actions) \
                and "aws:SourceAccount" in conditions and "aws:SourceArn" in conditions:
            return True
    return False


def _topic_allows(template, topic_logical_id, service):
    for policy in template.find_resources("AWS::SNS::TopicPolicy").values():
        if {"Ref": topic_logical_id} in policy["Properties"]["Topics"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                principal = statement.get("Principal")
                conditions = json.dumps(statement.get("Condition", {}))
                if isinstance(principal, dict) and principal.get("Service") == service \
                        and "sns:Publish" in statement["Action"] \
                        and "aws:SourceAccount" in conditions and "aws:SourceArn" in conditions:
                    return True
    return False


def test_every_alarm_can_reach_the_ops_address(templates):
    template = templates["Revisit-demo"]
    resources = template.to_json()["Resources"]
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) >= 5
    topics = {action["Ref"] for alarm in alarms.values() for action in alarm["Properties"]["AlarmActions"]}
    assert len(topics) == 1
    [topic] = topics
    assert _key_allows(template, resources[topic]["Properties"]["KmsMasterKeyId"], "cloudwatch.amazonaws.com")
    assert _topic_allows(template, topic, "cloudwatch.amazonaws.com")
    template.has_resource_properties("AWS::SNS::Subscription", {
        "Protocol": "email", "Endpoint": "ops@smilecircle.example.com", "TopicArn": {"Ref": topic}})


def test_the_sms_service_may_deliver_replies_to_the_inbound_topic(templates):
    template = templates["Revisit-demo"]
    [(logical_id, topic)] = template.find_resources("AWS::SNS::Topic", {
        "Properties": {"TopicName": "revisit-demo-inbound-sms"}}).items()
    assert _key_allows(template, topic["Properties"]["KmsMasterKeyId"], "sms-voice.amazonaws.com")
    assert _topic_allows(template, logical_id, "sms-voice.amazonaws.com")


def test_every_asynchronously_invoked_function_keeps_its_failures_in_an_encrypted_alarmed_queue(templates):
    template = templates["Revisit-demo"]
    resources = template.to_json()["Resources"]
    configs = template.find_resources("AWS::Lambda::EventInvokeConfig")
    asynchronous = [f for f in TOPOLOGY.functions.values() if f.invoked_async]
    assert asynchronous and len(configs) == len(asynchronous)
    alarms = json.dumps(template.find_resources("AWS::CloudWatch::Alarm"))
    for config in configs.values():
        queue = config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
        assert resources[queue]["Type"] == "AWS::SQS::Queue" and "KmsMasterKeyId" in resources[queue]["Properties"]
        assert _key_allows(template, resources[queue]["Properties"]["KmsMasterKeyId"], "sns.amazonaws.com")
        assert queue in alarms
    subscription = next(iter(template.find_resources("AWS::SNS::Subscription", {
        "Properties": {"Protocol": "lambda"}}).values()))
    assert "RedrivePolicy" in subscription["Properties"]


def test_the_nightly_schedule_retries_keeps_what_it_could_not_start_and_a_missing_night_alarms(templates):
    template = templates["Revisit-demo"]
    schedule = next(iter(template.find_resources("AWS::Scheduler::Schedule").values()))["Properties"]["Target"]
    assert schedule["RetryPolicy"]["MaximumRetryAttempts"] > 0
    queue = schedule["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert any(queue in json.dumps(a) for a in alarms.values())
    missing = [a["Properties"] for a in alarms.values() if a["Properties"].get("MetricName") == "ExecutionsStarted"]
    assert missing and missing[0]["TreatMissingData"] == "breaching" and missing[0]["Period"] == 86400


def test_no_concurrency_is_reserved_unless_the_tenant_asks_and_no_account_wide_role_is_deployed(templates, tmp_path):
    from revisit.config import load_tenant

    from infra.stack import RevisitStack

    template = templates["Revisit-demo"]
    functions = template.find_resources("AWS::Lambda::Function")
    assert all("ReservedConcurrentExecutions" not in f["Properties"] for f in functions.values())
    template.resource_count_is("AWS::ApiGateway::Account", 0)
    config = load_tenant(DEMO_TENANT).model_copy(update={"lambda_reserved_concurrency": 5})
    layer = tmp_path / "layer" / "python"
    layer.mkdir(parents=True)
    app = cdk.App(outdir=str(tmp_path / "cdk.out"), context=json.loads((ROOT / "cdk.json").read_text())["context"])
    reserved = Template.from_stack(RevisitStack(app, "Revisit-demo", config=config, tenant_file=DEMO_TENANT,
                                                layer_dir=layer.parent,
                                                env=cdk.Environment(account="123456789012", region="eu-west-1")))
    assert {f["Properties"].get("ReservedConcurrentExecutions")
            for f in reserved.find_resources("AWS::Lambda::Function").values()} == {5}


def test_refused_and_unsent_messages_alarm(templates):
    names = {a["Properties"].get("MetricName") for a in templates["Revisit-demo"].find_resources(
        "AWS::CloudWatch::Alarm").values()}
    assert {"MessagesNotSent", "SmsBudgetReached", "SmsCountryRefused"} <= names


# checkov findings accepted on purpose, each with its reason (the same judgments as the cdk-nag ones above).
CHECKOV_ACCEPTED = {
    "CKV_AWS_116": "Lambda DLQ: the functions are invoked synchronously (Step Functions retries and fails the "
                   "execution, alarmed; API Gateway answers the caller); the one asynchronous function has an "
                   "on-failure destination queue, which checkov does not read as a DLQ.",
    "CKV_AWS_117": "Lambda in a VPC: the functions reach only AWS APIs over TLS with IAM; a VPC adds NAT or "
                   "endpoint cost without narrowing that path (HIPAA LambdaInsideVPC acknowledged likewise).",
    "CKV_AWS_115": "Function-level concurrency: reserving it per function would let only a few tenant stacks fit "
                   "an account's quota; the tenant file's lambda_reserved_concurrency sets it where wanted.",
    "CKV_AWS_18": "The access-log bucket itself: logging the bucket that receives the access logs is recursive.",
    "CKV_AWS_120": "API caching: responses carry patient data and availability must never be stale.",
    "CKV_AWS_59": "GET /health is the open liveness probe; every other route has the authorizer.",
    "CKV_AWS_68": "WAF on the console's distribution is a per-account decision (a web ACL per chain costs monthly); "
                  "every route behind it requires a Cognito sign-in (cdk-nag CFR2 acknowledged likewise).",
    "CKV_AWS_174": "The console's distribution on its default *.cloudfront.net certificate, where CloudFront allows "
                   "TLS 1.0; a chain's custom domain sets TLS 1.2 (cdk-nag CFR4 acknowledged likewise).",
}


def test_checkov_finds_nothing_unaccepted_in_either_template(templates, tmp_path):
    import subprocess

    checkov = ROOT / ".venv-checkov" / "bin" / "checkov"
    assert checkov.exists(), "checkov is installed by `make test` (.venv-checkov)"
    for name, template in templates.items():
        (tmp_path / f"{name}.template.json").write_text(json.dumps(template.to_json()))
    result = subprocess.run([checkov, "-d", str(tmp_path), "--framework", "cloudformation", "--quiet", "--compact",
                             "-o", "json", "--skip-check", ",".join(CHECKOV_ACCEPTED)],
                            capture_output=True, text=True, timeout=300)
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [(c["check_id"], c["resource"]) for r in reports for c in r["results"]["failed_checks"]]
    passed = sum(r["summary"]["passed"] for r in reports)
    assert sorted({check for check, _ in failed}) == [] and passed > 300


def test_buckets_expire_old_versions_and_every_log_group_is_encrypted(templates):
    template = templates["Revisit-demo"]
    for bucket in template.find_resources("AWS::S3::Bucket").values():
        rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
        assert any("NoncurrentVersionExpiration" in r for r in rules)
    groups = template.find_resources("AWS::Logs::LogGroup")
    assert all("KmsKeyId" in g["Properties"] for g in groups.values())
    assert any("API-Gateway-Execution-Logs_" in json.dumps(g) for g in groups.values())
    key = next(iter(template.find_resources("AWS::KMS::Key").values()))
    logs_statement = [s for s in key["Properties"]["KeyPolicy"]["Statement"]
                      if "logs." in json.dumps(s.get("Principal", {}))]
    assert logs_statement and "kms:EncryptionContext:aws:logs:arn" in json.dumps(logs_statement[0]["Condition"])


def test_a_tenants_ses_configuration_set_is_used_by_every_sender_and_allowed_for_them_only(tmp_path):
    """SES authorizes a send on the configuration set too: the senders get it in their environment and policy."""
    from revisit.config import load_tenant

    tenant = tmp_path / "events.json"
    tenant.write_text(load_tenant(DEMO_TENANT).model_copy(update={"ses_configuration_set": "demo-events"})
                      .model_dump_json())
    layer = tmp_path / "layer" / "python"
    layer.mkdir(parents=True)
    app = cdk.App(outdir=str(tmp_path / "cdk.out"), context=json.loads((ROOT / "cdk.json").read_text())["context"])
    [stack] = build(app, [tenant], layer.parent, cdk.Environment(account="123456789012", region="eu-west-1"))
    template = Template.from_stack(stack).to_json()
    senders = [f for f in template["Resources"].values() if f["Type"] == "AWS::Lambda::Function"
               and "SES_CONFIGURATION_SET" in f["Properties"].get("Environment", {}).get("Variables", {})]
    assert len(senders) >= 3 and {f["Properties"]["Environment"]["Variables"]["SES_CONFIGURATION_SET"]
                                  for f in senders} == {"demo-events"}
    assert "arn:aws:ses:eu-west-1:123456789012:configuration-set/demo-events" in json.dumps(template)


def test_the_staff_console_has_a_user_pool_with_a_group_per_role_and_a_private_site(templates):
    """Issue 15: the pool admits no self sign-up; each role is a group; the site's bucket is private (read by
    CloudFront's origin access control) and its pages come with a strict content security policy."""
    from revisit.models.common import Role

    template = templates["Revisit-demo"]
    template.has_resource_properties("AWS::Cognito::UserPool", {
        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True}, "DeletionProtection": "ACTIVE"})
    groups = {g["Properties"]["GroupName"] for g in template.find_resources("AWS::Cognito::UserPoolGroup").values()}
    assert groups == {role.value for role in Role}
    template.has_resource_properties("AWS::Cognito::UserPoolClient", {"GenerateSecret": False,
                                                                      "PreventUserExistenceErrors": "ENABLED"})
    template.resource_count_is("AWS::CloudFront::OriginAccessControl", 1)
    [policy] = template.find_resources("AWS::CloudFront::ResponseHeadersPolicy").values()
    csp = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    text = json.dumps(csp["ContentSecurityPolicy"])
    assert "script-src 'self'" in text and "unsafe-inline" not in text and "https://cognito-idp." in text
    [distribution] = template.find_resources("AWS::CloudFront::Distribution").values()
    behaviors = distribution["Properties"]["DistributionConfig"]["CacheBehaviors"]
    assert [b["PathPattern"] for b in behaviors] == ["/staff/*"]
