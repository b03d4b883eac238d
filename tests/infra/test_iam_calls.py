"""Every AWS call the offline run made is allowed by the role it runs under on AWS, and every grant is used
by some call or has its reason written down (revisit/offline/iam_check.py).

`make test` records the calls of the whole suite (the workflow tests, the API tests and the small demos:
REVISIT_RECORD_AWS_CALLS) and then runs this module over them with `--aws-calls`. Run alone, without a
recording, the whole-run checks skip and say how to run them; the checker's own tests always run."""

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from revisit import topology
from revisit.offline import aws_calls
from revisit.offline.aws_calls import Call
from revisit.offline.iam_check import Statement, reasons_for, roles_of
from revisit.offline.stack import ACCOUNT, REGION
from revisit.schedules import tenant_schedules

from app import build
from tests.conftest import DEMO_TENANT, ROOT

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The demo tenant's stack, in the offline run's region and account (so the ARNs are the same)."""
    folder = tmp_path_factory.mktemp("iam")
    (folder / "layer" / "python").mkdir(parents=True)
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    app = cdk.App(outdir=str(folder / "cdk.out"), context=context)
    [stack] = build(app, [DEMO_TENANT], folder / "layer", cdk.Environment(account=ACCOUNT, region=REGION))
    return Template.from_stack(stack).to_json()


@pytest.fixture(scope="module")
def roles(template):
    return roles_of(template, REGION, ACCOUNT)


def declared_principals(tenant):
    """The principals the topology and the tenant's schedules declare: a test's own extra workflow (the
    topology extension test) has no role in the template and is not checked."""
    return ({aws_calls.function_principal(topology.function_name(tenant.tenant_id, f)) for f in topology.TOPOLOGY.functions}
            | {aws_calls.machine_principal(topology.state_machine_name(tenant.tenant_id, m))
               for m in topology.TOPOLOGY.machine_names}
            | {aws_calls.schedule_principal(s.name) for s in tenant_schedules(tenant)})


def reasons(tenant):
    return reasons_for(topology.TOPOLOGY, tenant.tenant_id, [s.name for s in tenant_schedules(tenant)])


@pytest.fixture(scope="module")
def recorded(request, tenant):
    folder = request.config.getoption("--aws-calls")
    if not folder:
        pytest.skip("checks a whole recorded run: `make test` records one (REVISIT_RECORD_AWS_CALLS) and then "
                    "runs this module with --aws-calls DIR")
    calls = aws_calls.load_folder(Path(folder))
    assert calls, f"no calls recorded in {folder}"
    declared = declared_principals(tenant)
    return {call: count for call, count in calls.items() if call.principal in declared}


def test_every_call_the_offline_run_made_is_allowed_by_its_role(roles, recorded, tenant):
    problems = roles.missing(recorded)
    assert not problems, "calls the roles do not allow:\n" + "\n".join(problems)
    # every declared function and machine ran (a principal never seen is a gap in the recorded run)
    seen = {call.principal for call in recorded}
    silent = {"function:" + topology.function_name(tenant.tenant_id, "plan_sweep")}  # pure: it calls nothing
    assert declared_principals(tenant) - seen <= silent


def test_every_grant_is_used_by_a_recorded_call_or_has_its_reason(roles, recorded, tenant):
    unreasoned, _ = roles.unused(recorded, reasons(tenant))
    assert not unreasoned, "grants nothing uses:\n" + "\n".join(unreasoned)


def test_removing_one_grant_fails_the_check_naming_the_function_and_the_call(roles, recorded, tenant):
    """What a forgotten grant looks like: the links key's GenerateMac taken from contact_patient."""
    principal = aws_calls.function_principal(topology.function_name(tenant.tenant_id, "contact_patient"))
    kept = [s for s in roles.statements[principal] if "kms:GenerateMac" not in s.actions]
    assert len(kept) == len(roles.statements[principal]) - 1
    without = type(roles)({**roles.statements, principal: kept})
    problems = without.missing(recorded)
    assert problems and all(p.startswith(f"{principal}: kms:GenerateMac on arn:aws:kms:") for p in problems)
    assert "alias/revisit-demo-links is not allowed by its role" in problems[0]


def test_the_recorded_calls_per_principal_are_reported(recorded, tenant, capsys):
    """The figures the closing note quotes: distinct actions per function and machine."""
    actions: dict[str, set[str]] = {}
    for call in recorded:
        actions.setdefault(call.principal, set()).add(call.action)
    with capsys.disabled():
        print("\nAWS calls recorded per principal (action: count):")
        for principal in sorted(actions):
            counts = {a: sum(n for c, n in recorded.items() if c.principal == principal and c.action == a)
                      for a in sorted(actions[principal])}
            print(f"  {principal}: " + ", ".join(f"{a} {n}" for a, n in counts.items()))
    assert len(actions) >= len(topology.TOPOLOGY.functions) - 1


# --- the checker itself, on hand-made statements -----------------------------------------------------
def call(action, resource, **context):
    return Call("function:f", action, resource, tuple(sorted(context.items())))


def test_iam_wildcards_conditions_and_not_resource():
    statement = Statement(actions=("dynamodb:Get*",), resources=("arn:aws:dynamodb:r:a:table/t",
                                                                   "arn:aws:dynamodb:r:a:table/t/index/*"))
    assert statement.allows(call("dynamodb:GetItem", "arn:aws:dynamodb:r:a:table/t"))
    assert statement.allows(call("DynamoDB:getitem", "arn:aws:dynamodb:r:a:table/t/index/gsi_due"))
    assert not statement.allows(call("dynamodb:PutItem", "arn:aws:dynamodb:r:a:table/t"))
    assert not statement.allows(call("dynamodb:GetItem", "arn:aws:dynamodb:r:a:table/other"))
    sms = Statement(actions=("sns:Publish",), not_resources=("arn:aws:sns:*:*:*",))
    assert sms.allows(call("sns:Publish", "*"))
    assert not sms.allows(call("sns:Publish", "arn:aws:sns:r:a:topic"))
    email = Statement(actions=("ses:SendEmail",), resources=("arn:aws:ses:r:a:identity/*",),
                      conditions={"StringEquals": {"ses:FromAddress": ("recall@clinic.example",)}})
    assert email.allows(call("ses:SendEmail", "arn:aws:ses:r:a:identity/clinic.example",
                             **{"ses:FromAddress": "recall@clinic.example"}))
    assert not email.allows(call("ses:SendEmail", "arn:aws:ses:r:a:identity/clinic.example",
                                 **{"ses:FromAddress": "other@clinic.example"}))
    assert not email.allows(call("ses:SendEmail", "arn:aws:ses:r:a:identity/clinic.example"))


def test_a_transaction_is_authorized_item_by_item_and_an_unknown_call_is_allowed_by_nothing():
    transaction = {"TransactItems": [{"Put": {"TableName": "t", "Item": {}}},
                                     {"Delete": {"TableName": "t", "Key": {}}},
                                     {"ConditionCheck": {"TableName": "t", "Key": {}}}]}
    found = aws_calls.iam_calls("dynamodb", "TransactWriteItems", transaction, "r", "a")
    assert [a for a, _, _ in found] == ["dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:PutItem"]
    # SES v2 signs as "ses": the action is ses:SendEmail, on the sender's domain identity, with its address
    assert aws_calls.iam_calls("ses", "SendEmail", {"FromEmailAddress": "Clinic <x@c.example>"}, "r", "a") == [
        ("ses:SendEmail", "arn:aws:ses:r:a:identity/c.example", (("ses:FromAddress", "x@c.example"),))]
    assert aws_calls.iam_calls("monitoring", "PutMetricData", {}, "r", "a") == [("cloudwatch:PutMetricData", "*", ())]
    assert aws_calls.iam_calls("rekognition", "DetectFaces", {}, "r", "a") == [("rekognition:DetectFaces", "*", ())]


def test_brackets_are_not_wildcards_and_condition_keys_ignore_case():
    literal = Statement(actions=("s3:PutObject",), resources=("arn:aws:s3:::b/[ab]",))
    assert literal.allows(call("s3:PutObject", "arn:aws:s3:::b/[ab]"))
    assert not literal.allows(call("s3:PutObject", "arn:aws:s3:::b/a"))
    email = Statement(actions=("ses:SendEmail",), resources=("*",),
                      conditions={"StringEquals": {"SES:FromAddress": ("x@c.example",)}})
    assert email.allows(call("ses:SendEmail", "arn:aws:ses:r:a:identity/c.example", **{"ses:fromaddress": "x@c.example"}))


def test_a_reason_covers_only_the_principals_it_describes(tenant):
    """The key DynamoDB uses server side is a reason for a function with a table, not for plan_sweep (none)."""
    from revisit.offline.iam_check import Roles

    given = reasons(tenant)
    plan = aws_calls.function_principal(topology.function_name(tenant.tenant_id, "plan_sweep"))
    select = aws_calls.function_principal(topology.function_name(tenant.tenant_id, "select_due_patients"))
    roles = Roles({plan: [Statement(actions=("kms:Decrypt",), resources=("*",))],
                   select: [Statement(actions=("kms:Decrypt",), resources=("*",))]})
    unreasoned, reasoned = roles.unused([], given)
    assert [line.split(":")[0] + ":" + line.split(":")[1] for line in unreasoned] == [plan]
    assert reasoned == {select: ["kms:Decrypt"]}


def test_the_dashboards_main_metrics_were_emitted_by_the_functions_in_the_recorded_run(request, tenant):
    """Besides the code that names them (tests/infra/test_dashboard.py), the metrics the sweep and messaging
    widgets read came out of the real handlers during the suite, through the one metrics adapter."""
    folder = request.config.getoption("--aws-calls")
    if not folder:
        pytest.skip("checks a whole recorded run (make test)")
    emitted = aws_calls.load_metrics(Path(folder))
    by_name = {name for (principal, name) in emitted if principal.startswith("function:")}
    assert {"RecallsDue", "MessagesSent", "SmsSent", "EmailSent", "StaffEmailSent", "CallTaskCreated",
            "SmsSpendThisMonthUsd"} <= by_name, sorted(by_name)
    sweep = aws_calls.function_principal(topology.function_name(tenant.tenant_id, "select_due_patients"))
    assert emitted[(sweep, "RecallsDue")] > 0
