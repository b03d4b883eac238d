"""Builds layers/build/python: the Lambda layer (Linux x86_64, Python 3.14 wheels + the revisit package,
without the offline runtime), with its bytecode when built by Python 3.14. Run before `cdk deploy`; synth
needs no Docker."""

import compileall
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "layers" / "build" / "python"
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
LAMBDA_PYTHON = (3, 14)
"""The functions' runtime (infra: Runtime.PYTHON_3_14). Bytecode is per Python version."""


def pip_command(target: Path = TARGET) -> list[str]:
    """Linux x86_64 wheels for the Lambda runtime's Python, whatever machine builds the layer, at the versions the
    suite passed with (constraints.txt). No bytecode from pip: it would be this interpreter's, not the runtime's."""
    return [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target), "--no-compile",
            "--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", "3.14",
            "--only-binary=:all:", "-c", str(ROOT / "constraints.txt"), "-r", str(ROOT / "layers" / "requirements.txt")]


def copy_package(target: Path) -> Path:
    """The revisit package as the layer ships it: what a function imports, not the offline runtime or the CLI."""
    shutil.copytree(ROOT / "shared" / "revisit", target / "revisit",
                    ignore=shutil.ignore_patterns("offline", "operations", "console", "__pycache__", "cli.py"))
    return target / "revisit"


def compile_bytecode(target: Path) -> None:
    """/opt is read-only on Lambda, so a layer without bytecode has every cold start compile every module it
    imports (50 to 100 ms of revisit's alone, measured by `make bench`). Unchecked hashes: the runtime then
    reads the .pyc without looking at the source's timestamp, which a zip does not keep anyway."""
    compileall.compile_dir(target, quiet=1, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)


def main() -> int:
    shutil.rmtree(TARGET.parent, ignore_errors=True)
    TARGET.mkdir(parents=True)
    subprocess.run(pip_command(), check=True)  # noqa: S603 (a fixed argument list, no shell)
    for provided in RUNTIME_PROVIDED:  # the Lambda Python runtime ships these; the layer need not
        for path in [*TARGET.glob(provided), *TARGET.glob(f"{provided}-*.dist-info")]:
            shutil.rmtree(path)
    copy_package(TARGET)
    if sys.version_info[:2] == LAMBDA_PYTHON:
        compile_bytecode(TARGET)
    else:
        print(f"warning: built by Python {sys.version_info[0]}.{sys.version_info[1]}, so the layer ships no bytecode "
              f"and each cold start compiles what it imports; build it with Python {LAMBDA_PYTHON[0]}.{LAMBDA_PYTHON[1]} "
              "(docs/deploy.md) to ship it compiled", file=sys.stderr)
    print(f"layer built in {TARGET.parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
