"""What a Lambda cold start does before the first patient (issue 14). Each case runs in a fresh interpreter,
as Lambda's init does: the package's import-time behaviour is the thing under test."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _fresh(code: str, **environment: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(ROOT / "shared"), **environment})
    return json.loads(done.stdout)


HANDLER = str(ROOT / "functions" / "open_recall" / "handler.py")
TENANT_JSON = ROOT / "tenants" / "demo.yaml"  # load_tenant reads YAML too (a deployed tenant's file is JSON)
IMPORT_HANDLER = ("import gc, json, sys, importlib.util as u\n"
                  f"s = u.spec_from_file_location('h', {HANDLER!r}); s.loader.exec_module(u.module_from_spec(s))\n")


def test_on_lambda_the_collector_waits_for_the_first_invocation_which_freezes_what_the_init_built():
    code = IMPORT_HANDLER + (
        "during = gc.isenabled()\n"
        "from revisit.lambda_runtime import end_of_init\n"
        "end_of_init()\n"
        "print(json.dumps({'during_init': during, 'after': gc.isenabled(), 'frozen': gc.get_freeze_count()}))")
    seen = _fresh(code, AWS_LAMBDA_FUNCTION_NAME="open-recall")
    assert seen["during_init"] is False and seen["after"] is True and seen["frozen"] > 10_000


def test_elsewhere_importing_the_package_leaves_the_collector_alone():
    seen = _fresh(IMPORT_HANDLER + "print(json.dumps({'enabled': gc.isenabled(), 'frozen': gc.get_freeze_count()}))")
    assert seen == {"enabled": True, "frozen": 0}


def test_a_handler_import_builds_no_validator_and_loads_no_phone_library():
    """Validators are built when first used (defer_build, default factories, no TypeAdapter at import): a model
    built at import would cost every cold start, whatever the function does."""
    code = IMPORT_HANDLER + (
        "from pydantic import BaseModel\n"
        "from pydantic._internal._mock_val_ser import MockValSer\n"
        "def subclasses(c):\n"
        "    for s in c.__subclasses__():\n"
        "        yield s; yield from subclasses(s)\n"
        "built = sorted(c.__qualname__ for c in subclasses(BaseModel) if c.__module__.startswith('revisit')\n"
        "               and not isinstance(c.__pydantic_validator__, MockValSer))\n"
        "print(json.dumps({'built': built, 'phonenumbers': 'phonenumbers' in sys.modules}))")
    assert _fresh(code) == {"built": [], "phonenumbers": False}


def test_a_function_imports_only_its_own_workflows_step_models():
    code = IMPORT_HANDLER + "print(json.dumps(sorted(m for m in sys.modules if m.startswith('revisit.models.steps.'))))"
    assert "revisit.models.steps.recall" in _fresh(code)
    assert "revisit.models.steps.reactivation" not in _fresh(code)


def test_the_first_invocation_makes_a_client_only_for_a_service_the_function_calls():
    """Making a boto3 client reads its service's model (about 13 ms each): a recall step must not pay for the
    report bucket's, the state machines' or the event bus's."""
    code = IMPORT_HANDLER + (
        "import botocore.client\n"
        "made = []\n"
        "original = botocore.client.ClientCreator.create_client\n"
        "def create_client(self, service_name, *a, **k):\n"
        "    made.append(service_name); return original(self, service_name, *a, **k)\n"
        "botocore.client.ClientCreator.create_client = create_client\n"
        "from revisit.lambda_runtime import tenant_context\n"
        "ctx = tenant_context()\n"
        "before = list(made)\n"
        "ctx.workflows._client.meta.service_model.service_name\n"
        "print(json.dumps({'at_first_call': before, 'after_use': made}))")
    seen = _fresh(code, AWS_DEFAULT_REGION="us-east-1", TENANT_ID="demo", TABLE_NAME="t", REPORTS_BUCKET="b",
                  TENANT_CONFIG_PATH=str(TENANT_JSON))
    assert seen["at_first_call"] == ["dynamodb"]
    assert seen["after_use"] == ["dynamodb", "stepfunctions"]
