"""revisit.topology is the one declaration of workflows and functions: what is on disk and what is declared
must match, or `make test` fails here (not at synth, not on the first night on AWS)."""

from pathlib import Path

import pytest
from revisit.models.common import Language
from revisit.rendering import TEMPLATES
from revisit.topology import (
    STATE_MACHINES_DIR,
    TOPOLOGY,
    Function,
    Topology,
    Workflow,
    function_arn_variable,
    state_machine_arn_variable,
)


def test_every_function_folder_is_declared_and_every_declared_folder_exists():
    on_disk = {p.parent.name for p in TOPOLOGY.functions_dir.glob("*/handler.py")}
    assert on_disk == set(TOPOLOGY.functions)


def test_every_asl_file_is_a_declared_workflow_using_exactly_its_declared_substitutions():
    on_disk = {p.name.removesuffix(".asl.json") for p in STATE_MACHINES_DIR.glob("*.asl.json")}
    assert on_disk == set(TOPOLOGY.machine_names)
    for workflow in TOPOLOGY.workflows:
        TOPOLOGY.asl_text(workflow)  # raises, naming the variable, on any difference


def _message(template: Path) -> str:
    """templates/en/recall_email_subject.txt.j2 -> recall_email; reports/recall_daily.html.j2 -> reports/..."""
    stem = template.name.removesuffix(".j2").rsplit(".", 1)[0].removesuffix("_subject")
    return f"reports/{stem}" if template.parent.name == "reports" else stem


def test_every_template_is_rendered_by_a_declared_function_and_exists_in_every_language():
    declared = {name for f in TOPOLOGY.functions.values() for name in f.templates}
    on_disk = {_message(p) for p in TEMPLATES.glob("*/*.j2")}
    assert on_disk == declared
    for language in Language:
        found = {_message(p) for p in (TEMPLATES / language.value).glob("*.j2")}
        assert found == {d for d in declared if not d.startswith("reports/")}, language


def test_machines_are_created_after_the_machines_they_start():
    order = [w.name for w in TOPOLOGY.creation_order()]
    assert order.index("recall") < order.index("sweep")
    for workflow in TOPOLOGY.workflows:
        for started in workflow.starts:
            assert order.index(started) < order.index(workflow.name)


def test_an_undeclared_substitution_is_named(tmp_path):
    asl = tmp_path / "echo.asl.json"
    asl.write_text('{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${PlanSweepFunctionArn}", '
                   '"Next": "B"}, "B": {"Type": "Task", "Resource": "${MissingStepFunctionArn}", "End": true}}}')
    topology = Topology(workflows=(Workflow("echo", steps=(Function("plan_sweep"),), definition=asl),))
    with pytest.raises(ValueError, match="MissingStepFunctionArn"):
        topology.asl_text(topology.workflow("echo"))


def test_a_cycle_of_workflows_starting_each_other_is_refused():
    topology = Topology(workflows=(Workflow("a", steps=(), starts=("b",)), Workflow("b", steps=(), starts=("a",))))
    with pytest.raises(ValueError, match="cycle"):
        topology.creation_order()


def test_a_function_declared_twice_with_other_permissions_is_refused():
    topology = Topology(workflows=(Workflow("a", steps=(Function("x", sms=True),)),
                                   Workflow("b", steps=(Function("x"),))))
    with pytest.raises(ValueError, match="declared twice"):
        _ = topology.functions


def test_asl_variable_names_follow_the_folder_and_machine_names():
    assert function_arn_variable("prepare_recall") == "PrepareRecallFunctionArn"
    assert state_machine_arn_variable("recall") == "RecallStateMachineArn"
