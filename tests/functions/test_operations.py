"""`revisit doctor` against a deployed tenant on moto (CloudFormation, SES identities, SNS, Scheduler, Step
Functions), with botocore's Stubber for what moto does not answer (SES GetAccount, the SMS-voice v2 API);
and `make deploy`'s refusals, before anything is built."""

import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from revisit import __version__, cli
from revisit.config import load_tenant
from revisit.models.tenant import Deployment
from revisit.operations import deploy as deploying
from revisit.operations.doctor import Clients, examine, report
from revisit.schedules import tenant_schedules

from tests.conftest import DEMO_TENANT

REGION, ACCOUNT = "eu-west-1", "123456789012"
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.fixture
def config():
    return load_tenant(DEMO_TENANT).model_copy(update={
        "deployment": Deployment(account=ACCOUNT, region=REGION), "sms_monthly_budget_usd": Decimal("500")})


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield


def client(service):
    return boto3.client(service, region_name=REGION)


def stubbed(service, answers):
    """A client whose every call is one of `answers` (operation, response), in order, checked against the
    service's model by the Stubber."""
    stubbed_client = client(service)
    stubber = Stubber(stubbed_client)
    for operation, response in answers:
        stubber.add_response(operation, response)
    stubber.activate()
    return stubbed_client


def ses_account(production=True, sending=True):
    return stubbed("sesv2", [("get_account", {
        "SendingEnabled": sending, "ProductionAccessEnabled": production, "EnforcementStatus": "HEALTHY",
        "DedicatedIpAutoWarmupEnabled": False})])


SPEND_LIMIT = next(name for name in boto3.client("pinpoint-sms-voice-v2", region_name=REGION).meta.service_model
                   .shape_for("SpendLimitName").enum if name.startswith("TEXT_"))  # the service's own name


def sms_account(tier="PRODUCTION", numbers=(), sender_ids=(), limit=1000, registered=True):
    created = datetime(2026, 10, 1, tzinfo=UTC)
    return stubbed("pinpoint-sms-voice-v2", [
        ("describe_account_attributes", {"AccountAttributes": [{"Name": "ACCOUNT_TIER", "Value": tier}]}),
        ("describe_phone_numbers", {"PhoneNumbers": [{
            "PhoneNumberArn": f"arn:aws:sms-voice:{REGION}:{ACCOUNT}:phone-number/phone-{i}", "PhoneNumber": number,
            "Status": "ACTIVE", "IsoCountryCode": country, "MessageType": "TRANSACTIONAL",
            "NumberCapabilities": ["SMS"], "NumberType": "TOLL_FREE", "MonthlyLeasingPrice": "2.00",
            "TwoWayEnabled": True, "SelfManagedOptOutsEnabled": False, "OptOutListName": "Default",
            "DeletionProtectionEnabled": True, "CreatedTimestamp": created} for i, (country, number) in enumerate(numbers)]}),
        ("describe_sender_ids", {"SenderIds": [{
            "SenderIdArn": f"arn:aws:sms-voice:{REGION}:{ACCOUNT}:sender-id/SmileCircle/{country}",
            "SenderId": "SmileCircle", "IsoCountryCode": country, "MessageTypes": ["TRANSACTIONAL"],
            "MonthlyLeasingPrice": "0.00", "DeletionProtectionEnabled": False, "Registered": registered}
            for country in sender_ids]}),
        ("describe_spend_limits", {"SpendLimits": [
            {"Name": SPEND_LIMIT, "EnforcedLimit": limit, "MaxLimit": 10_000, "Overridden": True}]}),
    ])


def clients(ses=None, sms=None):
    return Clients(cloudformation=client("cloudformation"), sesv2=client("sesv2"), ses_account=ses or ses_account(),
                   sms=sms or sms_account(), sns=client("sns"), scheduler=client("scheduler"),
                   stepfunctions=client("stepfunctions"))


def deploy_fake(config, *, last_sweep="SUCCEEDED", version=__version__, sns_limit="1000"):
    """What `make deploy` and the steps of docs/deploy.md leave in the account, made on moto: the stack (with
    the outputs the doctor reads), a verified domain, a confirmed ops subscriber, the schedules, a sweep run."""
    sfn = client("stepfunctions")
    role = f"arn:aws:iam::{ACCOUNT}:role/sweep"
    states = {"Sweep": {"Type": "Pass", "End": True}} if last_sweep == "SUCCEEDED" else {
        "Sweep": {"Type": "Fail", "Error": "TransientError", "Cause": "PlanSweep failed"}}
    machine = sfn.create_state_machine(name="revisit-demo-sweep", roleArn=role,
                                       definition=json.dumps({"StartAt": "Sweep", "States": states}))["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, name="nightly-20261126")["executionArn"]
    for _ in range(100):
        if sfn.describe_execution(executionArn=execution)["status"] != "RUNNING":
            break
        time.sleep(0.05)
    client("cloudformation").create_stack(StackName="Revisit-demo", TemplateBody=json.dumps({
        "Resources": {"OpsAlerts": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"RevisitVersion": {"Value": version}, "OpsTopicArn": {"Value": {"Ref": "OpsAlerts"}},
                    "NightlyStateMachineArn": {"Value": machine}}}))
    topic = next(o["OutputValue"] for o in client("cloudformation").describe_stacks(StackName="Revisit-demo")
                 ["Stacks"][0]["Outputs"] if o["OutputKey"] == "OpsTopicArn")
    client("sns").subscribe(TopicArn=topic, Protocol="email", Endpoint=str(config.ops_email))
    client("sns").set_sms_attributes(attributes={"MonthlySpendLimit": sns_limit})
    if config.ses_configuration_set:
        client("sesv2").create_configuration_set(ConfigurationSetName=config.ses_configuration_set)
    client("sesv2").create_email_identity(EmailIdentity="smilecircle.example.com")
    from moto.ses.models import ses_backends  # what AWS does once the DKIM records are published
    ses_backends[ACCOUNT][REGION].email_identities["smilecircle.example.com"].verified_for_sending_status = True
    for spec in tenant_schedules(config):
        client("scheduler").create_schedule(
            Name=spec.name, ScheduleExpression=spec.expression, ScheduleExpressionTimezone=spec.time_zone,
            State="ENABLED", FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": machine, "RoleArn": role, "Input": json.dumps(spec.input)})


READY_SMS = {"numbers": [("US", "+18885550100")], "sender_ids": ["ES", "BG", "RU"]}


def test_a_ready_tenant_passes_every_item(aws, config):
    config = config.model_copy(update={"ses_configuration_set": "revisit-demo-events"})
    deploy_fake(config)
    findings = examine(config, clients(sms=sms_account(**READY_SMS)), now=NOW)
    text, code = report(findings)
    assert [f.item for f in findings if not f.ok] == [], text
    assert code == 0
    for item in ("stack Revisit-demo deployed", f"stack at version {__version__}",
                 "SES identity for recall@smilecircle.example.com", "SES sending enabled", "out of the SES sandbox",
                 "out of the SMS sandbox", "SMS origination identity for US", "SMS origination identity for ES",
                 "SMS origination identity for BG", "SMS origination identity for RU",
                 "SMS spend limit above the tenant's budget", "ops topic confirmed by a subscriber",
                 "nightly schedule revisit-demo-nightly-recall-sweep", "last sweep",
                 "SES configuration set revisit-demo-events"):
        assert f"ok       {item}" in text
    assert text.splitlines()[-1] == f"{len(findings)} ok, 0 missing, 0 blocking sending"


def test_a_fresh_account_lists_every_missing_item_with_its_fix_and_fails(aws, config):
    config = config.model_copy(update={"ses_configuration_set": "revisit-demo-events"})
    client("sesv2").create_email_identity(EmailIdentity="smilecircle.example.com")  # created, DNS not yet published
    findings = examine(config, clients(ses=ses_account(production=False),
                                       sms=sms_account(tier="SANDBOX", sender_ids=["ES"], limit=1)), now=NOW)
    text, code = report(findings)
    missing = {f.item: f for f in findings if not f.ok}
    assert code == 1
    assert set(missing) == {
        "stack Revisit-demo deployed", "SES identity for recall@smilecircle.example.com", "out of the SES sandbox",
        "out of the SMS sandbox", "SMS origination identity for US", "SMS origination identity for BG",
        "SMS origination identity for RU", "SMS spend limit above the tenant's budget",
        "ops topic confirmed by a subscriber", "schedules deployed", "last sweep",
        "SES configuration set revisit-demo-events"}
    assert all(f.fix for f in missing.values())
    assert "make deploy TENANT=demo" in missing["stack Revisit-demo deployed"].fix
    assert "toll-free" in missing["SMS origination identity for US"].fix
    assert "request the sender ID SmileCircle for BG" in missing["SMS origination identity for BG"].fix
    assert "register the sender ID SmileCircle for RU" in missing["SMS origination identity for RU"].fix
    assert "at least 500" in missing["SMS spend limit above the tenant's budget"].fix
    assert "MISSING  out of the SES sandbox" in text and "(blocks sending)" in text
    assert "         fix: " in text
    assert not missing["ops topic confirmed by a subscriber"].blocks_sending


def test_an_old_version_a_failed_last_sweep_and_a_paused_schedule_are_named(aws, config):
    deploy_fake(config, last_sweep="FAILED", version="0.0.9")
    spec = tenant_schedules(config)[0]
    schedule = client("scheduler").get_schedule(Name=spec.name)
    client("scheduler").update_schedule(Name=spec.name, ScheduleExpression=spec.expression,
                                        ScheduleExpressionTimezone="UTC", State="DISABLED",
                                        FlexibleTimeWindow={"Mode": "OFF"}, Target=schedule["Target"])
    findings = {f.item: f for f in examine(config, clients(sms=sms_account(**READY_SMS)), now=NOW)}
    assert not findings[f"stack at version {__version__}"].ok and "0.0.9" in findings[f"stack at version {__version__}"].detail
    sweep = findings["last sweep"]
    assert not sweep.ok and "FAILED" in sweep.detail and "revisit sweep --night" in sweep.fix
    nightly = findings["nightly schedule revisit-demo-nightly-recall-sweep"]
    assert not nightly.ok and nightly.blocks_sending and "DISABLED" in nightly.detail and "UTC" in nightly.detail
    assert report(list(findings.values()))[1] == 1


def test_a_sweep_older_than_a_night_is_missing(aws, config):
    deploy_fake(config)
    later = datetime.now(UTC) + timedelta(days=2)
    [sweep] = [f for f in examine(config, clients(sms=sms_account(**READY_SMS)), now=later) if f.item == "last sweep"]
    assert not sweep.ok and "26 hours" in sweep.fix


def without_credentials(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)


def test_deploy_refuses_without_credentials_before_building_anything(monkeypatch, capsys):
    without_credentials(monkeypatch)
    ran = []
    monkeypatch.setattr(deploying.subprocess, "run", lambda *a, **k: ran.append(a))
    assert cli.main(["deploy", "--tenant", str(DEMO_TENANT)]) == 2
    err = capsys.readouterr().err
    assert "no AWS credentials" in err and "make synth` needs none" in err and "docs/deploy.md" in err
    assert ran == []
    assert cli.main(["doctor", "--tenant", str(DEMO_TENANT), "--region", REGION]) == 2
    assert "revisit doctor: no AWS credentials" in capsys.readouterr().err


def test_deploy_refuses_credentials_of_another_account_and_a_tenant_without_a_deployment(aws, config):
    elsewhere = config.model_copy(update={"deployment": config.deployment.model_copy(update={"account": "210987654321"})})
    with pytest.raises(deploying.DeployRefused, match="for account 123456789012; tenant demo deploys to 210987654321"):
        deploying.preflight(elsewhere, boto3.Session())
    with pytest.raises(deploying.DeployRefused, match="names no deployment"):
        deploying.preflight(config.model_copy(update={"deployment": None}), boto3.Session())


def test_deploy_builds_synthesizes_with_cdk_nag_diffs_and_deploys_that_tenant_only(aws, config):
    ran, said = [], []

    class Done:
        returncode = 0

    def run(command, **kwargs):
        ran.append((command, kwargs["env"]["CDK_DEFAULT_ACCOUNT"], kwargs["env"]["CDK_DEFAULT_REGION"]))
        return Done()

    assert deploying.deploy(DEMO_TENANT, config, boto3.Session(), run=run, say=said.append) == 0
    steps = [" ".join(c[1:4]) if c[0] == "npx" else (c[3] if "-m" in c else c[-1].rsplit("/", 1)[-1])
             for c, _, _ in ran]
    assert steps == ["build_layer.py", "--no-install cdk synth", "--no-install cdk diff", "--no-install cdk deploy",
                     "publish-console"]
    assert {(a, r) for _, a, r in ran} == {(ACCOUNT, REGION)}
    synth, deploy_command = ran[1][0], ran[3][0]
    assert "nag=true" in synth and f"tenants={DEMO_TENANT}" in synth and synth[-1] == "Revisit-demo"
    assert deploy_command[-3:] == ["Revisit-demo", "--require-approval", "broadening"]
    assert "revisit doctor" in said[-1]

    class Failed:
        returncode = 1

    assert deploying.deploy(DEMO_TENANT, config, boto3.Session(), run=lambda c, **k: Failed(), say=said.append) == 1
    assert "nothing after it ran" in said[-1]


def test_unregistered_sender_ids_a_low_sns_limit_and_an_unconfirmed_subscriber_are_named(aws, config):
    deploy_fake(config, sns_limit="100")
    topic = next(o["OutputValue"] for o in client("cloudformation").describe_stacks(StackName="Revisit-demo")
                 ["Stacks"][0]["Outputs"] if o["OutputKey"] == "OpsTopicArn")
    sns = stubbed("sns", [  # moto confirms email subscriptions at once: AWS waits for the click
        ("get_sms_attributes", {"attributes": {"MonthlySpendLimit": "100"}}),
        ("list_subscriptions_by_topic", {"Subscriptions": [{
            "SubscriptionArn": "PendingConfirmation", "Owner": ACCOUNT, "Protocol": "email",
            "Endpoint": "ops@smilecircle.example.com", "TopicArn": topic}]})])
    checked = clients(sms=sms_account(numbers=[("US", "+18885550100")], sender_ids=["ES", "BG", "RU"], registered=False))
    findings = {f.item: f for f in examine(config, Clients(**{**checked.__dict__, "sns": sns}), now=NOW)}
    assert findings["SMS origination identity for BG"].ok  # no registration there
    for country in ("ES", "RU"):
        assert not findings[f"SMS origination identity for {country}"].ok
        assert "not registered" in findings[f"SMS origination identity for {country}"].detail
    spend = findings["SMS spend limit above the tenant's budget"]
    assert not spend.ok and "SNS MonthlySpendLimit 100 USD" in spend.detail and spend.blocks_sending
    ops = findings["ops topic confirmed by a subscriber"]
    assert not ops.ok and "0 confirmed of 1" in ops.detail and "confirm the email sent to ops@" in ops.fix


def test_what_cannot_be_read_is_reported_not_raised_and_an_older_stack_is_told_to_redeploy(aws, config):
    from botocore.stub import Stubber as Stub

    deploy_fake(config)
    client("cloudformation").update_stack(StackName="Revisit-demo", TemplateBody=json.dumps({
        "Resources": {"OpsAlerts": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"RevisitVersion": {"Value": "0.0.9"}}}))
    spec = tenant_schedules(config)[0]  # and its nightly sweep was switched off: still found without the outputs
    schedule = client("scheduler").get_schedule(Name=spec.name)
    client("scheduler").update_schedule(Name=spec.name, ScheduleExpression=spec.expression, State="DISABLED",
                                        ScheduleExpressionTimezone=spec.time_zone, FlexibleTimeWindow={"Mode": "OFF"},
                                        Target=schedule["Target"])
    denied = client("pinpoint-sms-voice-v2")
    stub = Stub(denied)
    stub.add_client_error("describe_account_attributes", service_error_code="AccessDeniedException", http_status_code=403)
    stub.activate()
    findings = examine(config, clients(sms=denied), now=NOW)
    text, code = report(findings)
    assert code == 1
    assert "MISSING  SMS: readable: could not be read (AccessDeniedException)" in text
    assert "MISSING  stack output OpsTopicArn: the stack does not have it" in text
    assert "MISSING  nightly schedule revisit-demo-nightly-recall-sweep: DISABLED" in text
    assert "ok       SES sending enabled" in text  # the rest is still checked


def test_a_stack_that_cannot_be_read_is_not_reported_missing(aws, config):
    from botocore.stub import Stubber as Stub

    denied = client("cloudformation")
    stub = Stub(denied)
    stub.add_client_error("describe_stacks", service_error_code="AccessDenied", http_status_code=403)
    stub.activate()
    text, code = report(examine(config, Clients(**{**clients(sms=sms_account()).__dict__, "cloudformation": denied}),
                               now=NOW))
    assert code == 1 and "MISSING  stack: readable: could not be read (AccessDenied)" in text
    assert "needs the stack" not in text and "deploy first" not in text


def test_credentials_that_cannot_be_loaded_are_a_message_not_a_traceback(monkeypatch, tmp_path, config):
    from revisit.operations.account import NotReady, tenant_account

    profile = tmp_path / "config"
    profile.write_text("[profile broken]\ncredential_process = /bin/false\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(profile))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_PROFILE", "broken")
    with pytest.raises(NotReady, match=r"could not be loaded|were refused"):
        tenant_account(config)


def test_the_doctor_refuses_credentials_of_another_account(aws, config, tmp_path, capsys):
    tenant_file = tmp_path / "elsewhere.json"
    tenant_file.write_text(config.model_copy(update={"deployment": Deployment(account="210987654321", region=REGION)})
                           .model_dump_json())
    assert cli.main(["doctor", "--tenant", str(tenant_file)]) == 2
    assert "credentials are for account 123456789012; tenant demo deploys to 210987654321" in capsys.readouterr().err
    assert cli.main(["sweep", "--night", "2026-11-23", "--tenant", str(tenant_file)]) == 2


def test_publish_console_uploads_the_files_and_its_config_then_invalidates_the_cache(aws):
    """Issue 15: the console's files reach the stack's site bucket with their types, config.json names the
    region's Cognito endpoint and the stack's app client, and CloudFront is told to drop what it cached."""
    import json as jsonlib

    from revisit.operations.console import NotDeployed, publish

    s3, cloudfront = client("s3"), client("cloudfront")
    s3.create_bucket(Bucket="revisit-demo-console", CreateBucketConfiguration={"LocationConstraint": REGION})
    distribution = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": "x", "Comment": "", "Enabled": True, "Origins": {"Quantity": 1, "Items": [
            {"Id": "site", "DomainName": "revisit-demo-console.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}})["Distribution"]["Id"]
    outputs = {"ConsoleBucketName": "revisit-demo-console", "ConsoleDistributionId": distribution,
               "StaffConsoleClientId": "abc123client"}
    assert publish(outputs, REGION, s3, cloudfront, "ref-1") == ["index.html", "console.js", "console.css", "config.json"]
    assert s3.head_object(Bucket="revisit-demo-console", Key="console.js")["ContentType"].startswith("text/javascript")
    config = jsonlib.loads(s3.get_object(Bucket="revisit-demo-console", Key="config.json")["Body"].read())
    assert config == {"cognito": {"endpoint": f"https://cognito-idp.{REGION}.amazonaws.com/", "clientId": "abc123client"},
                      "apiBase": ""}
    assert cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"]["Quantity"] == 1
    with pytest.raises(NotDeployed, match="ConsoleDistributionId"):
        publish({"ConsoleBucketName": "b"}, REGION, s3, cloudfront, "ref-2")
