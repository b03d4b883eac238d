"""Builds layers/build/python: the Lambda layer (Linux x86_64, Python 3.14 wheels + the revisit package,
without the offline runtime). Run before `cdk deploy`; synth needs no Docker."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "layers" / "build" / "python"
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")


def pip_command(target: Path = TARGET) -> list[str]:
    """Linux x86_64 wheels for the Lambda runtime's Python, whatever machine builds the layer, at the versions the
    suite passed with (constraints.txt)."""
    return [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target),
            "--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", "3.14",
            "--only-binary=:all:", "-c", str(ROOT / "constraints.txt"), "-r", str(ROOT / "layers" / "requirements.txt")]


def main() -> int:
    shutil.rmtree(TARGET.parent, ignore_errors=True)
    TARGET.mkdir(parents=True)
    subprocess.run(pip_command(), check=True)  # noqa: S603 (a fixed argument list, no shell)
    for provided in RUNTIME_PROVIDED:  # the Lambda Python runtime ships these; the layer need not
        for path in [*TARGET.glob(provided), *TARGET.glob(f"{provided}-*.dist-info")]:
            shutil.rmtree(path)
    shutil.copytree(ROOT / "shared" / "revisit", TARGET / "revisit",
                    ignore=shutil.ignore_patterns("offline", "operations", "console", "__pycache__", "cli.py"))
    print(f"layer built in {TARGET.parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
