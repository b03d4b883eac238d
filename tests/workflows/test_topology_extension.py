"""A workflow is added by its files and one topology entry: the offline stack (and the CDK app, see
tests/infra) create it, wire its functions and run it, with no edit to either."""

import json

from revisit.offline.driver import Driver
from revisit.offline.stack import OfflineStack
from revisit.topology import TOPOLOGY, Function, Topology, Workflow

from tests.conftest import DEMO_TENANT, START

PLAN_ONLY = {
    "Comment": "A new workflow: one Task state calling a declared function",
    "StartAt": "PlanSweep",
    "States": {"PlanSweep": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "${PlanSweepFunctionArn}",
                       "Payload": {"execution_name.$": "$$.Execution.Name", "input.$": "$"}},
        "OutputPath": "$.Payload", "End": True}},
}


def extended_topology(tmp_path) -> Topology:
    definition = tmp_path / "plan_only.asl.json"
    definition.write_text(json.dumps(PLAN_ONLY))
    added = Workflow("plan_only", steps=(Function("plan_sweep"),), definition=definition)
    return Topology(workflows=(*TOPOLOGY.workflows, added), entry_points=TOPOLOGY.entry_points)


def test_a_workflow_added_by_one_declaration_runs_offline(tmp_path):
    with OfflineStack(DEMO_TENANT, START, declared=extended_topology(tmp_path)) as stack:
        assert stack.state_machine_arns["plan_only"].endswith(":revisit-demo-plan-only")
        arn = stack.start_execution("plan_only", "plan-2026-11-23", {"run_date": "2026-11-23"})
        Driver(stack).settle()
        described = stack.client("stepfunctions").describe_execution(executionArn=arn)
        assert described["status"] == "SUCCEEDED"
        output = json.loads(described["output"])
        assert output["run_date"] == "2026-11-23"
        assert [c["clinic_id"] for c in output["clinics"]] == [c.clinic_id for c in stack.config.clinics]
