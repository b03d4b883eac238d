"""The ops dashboard in the synthesized template reads only metrics that exist: each Revisit metric is one the
code emits, with the dimensions the functions put on it; each AWS metric names a resource of the stack; each
widget names the alarm that guards it."""

import ast
import io
import json
import re
from contextlib import redirect_stdout
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from revisit import topology
from revisit.models.common import Channel
from revisit.models.entities import AttemptOutcome, CommunicationAttempt, StaffNotice
from revisit.offline.stack import OfflineStack
from revisit.services.delivery import channel_metric

from app import build
from tests.conftest import DEMO_TENANT, ROOT, START

pytestmark = pytest.mark.infra
CODE = ROOT / "shared" / "revisit"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dashboard")
    (folder / "layer" / "python").mkdir(parents=True)
    app = cdk.App(outdir=str(folder / "cdk.out"), context=json.loads((ROOT / "cdk.json").read_text())["context"])
    [stack] = build(app, [DEMO_TENANT], folder / "layer", cdk.Environment(account="123456789012", region="eu-west-1"))
    return Template.from_stack(stack).to_json()


def _text(part, resources):
    """A token of the body as a readable placeholder: <StateMachine:revisit-demo-recall>, <Alarm:...>."""
    if isinstance(part, str):
        return part
    if part.get("Ref", "").startswith("AWS::"):
        return f"<{part['Ref']}>"
    if "Ref" in part:
        resource = resources[part["Ref"]]
        name = (resource["Properties"].get("StateMachineName") or resource["Properties"].get("AlarmName")
                or resource["Properties"].get("Name") or part["Ref"])
        return f"<{resource['Type'].split('::')[-1]}:{name}>"
    if "Fn::GetAtt" in part:
        logical, attribute = part["Fn::GetAtt"]
        resource = resources[logical]
        return f"<{resource['Type'].split('::')[-1]}:{resource['Properties'].get('AlarmName', logical)}.{attribute}>"
    raise AssertionError(f"unexpected token in the dashboard body: {part}")


@pytest.fixture(scope="module")
def dashboard(template):
    resources = template["Resources"]
    [body] = [r["Properties"]["DashboardBody"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    separator, parts = body["Fn::Join"]
    return json.loads(separator.join(_text(p, resources) for p in parts))


def widget_metrics(widget):
    """[(namespace, name, {dimension: value})] of a widget's metric arrays (math expressions skipped)."""
    found = []
    for row in widget["properties"].get("metrics", []):
        fields = [f for f in row if not isinstance(f, dict)]
        if not fields:
            continue  # a math expression: its inputs are rows of their own
        namespace, name, *pairs = fields
        found.append((namespace, name, dict(zip(pairs[::2], pairs[1::2], strict=True))))
    return found


def emitted_by_code() -> set[str]:
    """Every metric name the code emits: the literal names passed to a MetricsSink's count or gauge (or a
    module constant naming one), and the delivery's per-channel names, computed by the function it calls."""
    names: set[str] = set()
    for path in CODE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        constants = {t.id: n.value.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
                     and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
                     for t in n.targets if isinstance(t, ast.Name)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("count", "gauge") and node.args
                    and ast.unparse(node.func.value).endswith("metrics")):  # a MetricsSink, not str.count
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    names.add(first.value)
                elif isinstance(first, ast.Name) and first.id in constants:
                    names.add(constants[first.id])
    for outcome in AttemptOutcome:
        for channel in Channel:
            names.add(channel_metric(CommunicationAttempt.model_construct(channel=channel, outcome=outcome)) or "")
        names.add(channel_metric(StaffNotice.model_construct(outcome=outcome)) or "")
    return names - {""}


def test_every_revisit_metric_on_the_dashboard_is_emitted_by_the_code_with_its_dimensions(dashboard):
    emitted = emitted_by_code()
    shown = [m for w in dashboard["widgets"] for m in widget_metrics(w) if m[0] == topology.METRICS_NAMESPACE]
    assert len(shown) >= 15
    for _, name, dimensions in shown:
        assert name in emitted, f"the dashboard shows {name}, which no code emits"
        assert dimensions == topology.metric_dimensions("demo"), name
    assert {"RecallsDue", "SmsSent", "EmailFailed", "MessagesNotSent", "SmsSpendThisMonthUsd"} <= emitted


def test_every_aws_metric_on_the_dashboard_names_a_resource_of_the_stack(dashboard, template):
    machines = {f"<StateMachine:{r['Properties']['StateMachineName']}>" for r in template["Resources"].values()
                if r["Type"] == "AWS::StepFunctions::StateMachine"}
    apis = {r["Properties"]["Name"] for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"}
    shown = [m for w in dashboard["widgets"] for m in widget_metrics(w) if m[0].startswith("AWS/")]
    assert {m[0] for m in shown} == {"AWS/States", "AWS/ApiGateway", "AWS/SNS"}
    for namespace, name, dimensions in shown:
        if namespace == "AWS/States":
            assert dimensions["StateMachineArn"] in machines, name
        elif namespace == "AWS/ApiGateway":
            assert dimensions == {"ApiName": next(iter(apis))}, name
        else:  # the account's SMS spend: SNS publishes it without dimensions
            assert (name, dimensions) == ("SMSMonthToDateSpentUSD", {})


def test_every_widget_names_the_alarm_that_guards_it_and_every_machine_has_one(dashboard, template):
    alarms = {r["Properties"]["AlarmName"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"}
    widgets = [w for w in dashboard["widgets"] if w["type"] == "metric"]
    for widget in widgets:
        title = widget["properties"]["title"]
        assert any(name in title for name in alarms), f"no alarm named in {title!r}"
    alarm_widgets = [w["properties"]["title"] for w in widgets if "annotations" in w["properties"]
                     and "alarms" in w["properties"]["annotations"]]
    assert len(alarm_widgets) == len(topology.TOPOLOGY.machine_names)
    [status] = [w for w in dashboard["widgets"] if w["type"] == "alarm"]
    assert len(status["properties"]["alarms"]) == len(alarms)  # every alarm's state on one line


def test_the_functions_emit_their_metrics_in_the_namespace_and_dimensions_the_dashboard_reads(monkeypatch):
    """A real handler with metrics on: its embedded-metric-format line is what CloudWatch would ingest."""
    with OfflineStack(DEMO_TENANT, START) as stack:
        monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
        printed = io.StringIO()
        with redirect_stdout(printed):
            stack.lambdas.invoke(FunctionName="revisit-demo-select-due-patients", Payload=json.dumps({
                "execution_name": "sweep-boston-20261124-p1-r1", "clinic_id": "boston", "run_date": "2026-11-24",
                "horizon_date": "2026-12-08", "run_id": "r1"}).encode())
    [emf] = [json.loads(line) for line in printed.getvalue().splitlines() if '"_aws"' in line]
    [directive] = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == topology.METRICS_NAMESPACE
    assert [sorted(d) for d in directive["Dimensions"]] == [sorted(topology.metric_dimensions("demo"))]
    assert {k: emf[k] for k in topology.metric_dimensions("demo")} == topology.metric_dimensions("demo")
    assert "RecallsDue" in {m["Name"] for m in directive["Metrics"]} and sum(emf["RecallsDue"]) == 0  # none due


def test_the_runbook_names_every_alarm(template):
    alarms = {r["Properties"]["AlarmName"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"}
    runbook = (ROOT / "docs" / "operations.md").read_text()
    named = {re.sub(r"^revisit-demo-", "", a) for a in alarms}
    missing = sorted(a for a in named if f"`{a}`" not in runbook)
    assert missing == [], f"docs/operations.md says nothing of {missing}"


def test_deploy_guide_is_linked_from_the_readmes_first_screen():
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:30])
    assert "docs/deploy.md" in first_screen and Path(ROOT / "docs" / "deploy.md").exists()
