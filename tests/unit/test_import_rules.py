"""`make lint` holds the import rules, and can fail: each rule is broken on a copy of the code and the
checker must name it."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

BIN = Path(sys.executable).parent
CONTRACTS = {c["id"]: c for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]}


def test_the_lambda_rule_covers_every_module_but_the_offline_runtime_and_the_cli():
    package = ROOT / "shared" / "revisit"
    modules = {f"revisit.{p.stem}" for p in package.glob("*.py") if p.stem != "__init__"}
    modules |= {f"revisit.{p.name}" for p in package.iterdir() if (p / "__init__.py").exists()}
    assert set(CONTRACTS["lambda"]["source_modules"]) == modules - {"revisit.offline", "revisit.cli"}


@pytest.fixture
def copy(tmp_path):
    """The package, infra, the handlers and the lint configuration, to break on purpose."""
    for folder in ("shared/revisit", "infra", "functions"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def lint_imports(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([BIN / "lint-imports", "--no-cache", "--no-logo"], cwd=folder, capture_output=True,
                          text=True, env={"PATH": str(BIN), "PYTHONPATH": f"{folder / 'shared'}:{folder}"}, timeout=120)


def breach(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_copy_passes_as_it_is(copy):
    assert lint_imports(copy).returncode == 0


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("shared/revisit/domain/sms.py", "import boto3", "domain"),
    ("shared/revisit/domain/ladder.py", "from revisit.adapters.dynamo import TenantTables", "domain"),
    ("shared/revisit/services/recall.py", "from revisit.adapters.dynamo import TenantTables", "ports"),
    ("shared/revisit/api/app.py", "from revisit.lambda_runtime import tenant_context", "ports"),
    ("shared/revisit/rendering.py", "from revisit.offline import outbox", "lambda"),
    ("infra/constructs/data.py", "from revisit.services import recall", "infra"),
    ("infra/constructs/api.py", "from revisit.adapters.messaging import AwsNotifier", "infra"),
])
def test_a_breach_of_each_rule_fails_naming_the_rule(copy, module, line, contract):
    breach(copy / module, line)
    result = lint_imports(copy)
    assert result.returncode == 1
    assert f"{CONTRACTS[contract]['name']} BROKEN" in result.stdout


def test_a_handler_importing_boto3_or_the_offline_runtime_fails(copy):
    handler = copy / "functions" / "plan_sweep" / "handler.py"
    breach(handler, "import boto3\nfrom revisit.offline import stack")
    result = subprocess.run([BIN / "ruff", "check", "--no-cache", "--output-format", "concise", "functions"],
                            cwd=copy, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stdout.count("TID251") == 2 and "revisit.offline" in result.stdout
