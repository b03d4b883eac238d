"""Builds layers/build/python: the Lambda layer (Linux x86_64, Python 3.14 wheels + the revisit package,
without the offline runtime). Run before `cdk deploy`; synth needs no Docker."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "layers" / "build" / "python"
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")


def main() -> int:
    shutil.rmtree(TARGET.parent, ignore_errors=True)
    TARGET.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "pip"  # noqa: S603 (a fixed argument list, no shell), "install", "--quiet", "--target", str(TARGET),
                    "--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", "3.14",
                    "--only-binary=:all:", "-r", str(ROOT / "layers" / "requirements.txt")], check=True)
    for provided in RUNTIME_PROVIDED:  # the Lambda Python runtime ships these; the layer need not
        for path in [*TARGET.glob(provided), *TARGET.glob(f"{provided}-*.dist-info")]:
            shutil.rmtree(path)
    shutil.copytree(ROOT / "shared" / "revisit", TARGET / "revisit",
                    ignore=shutil.ignore_patterns("offline", "__pycache__", "cli.py"))
    print(f"layer built in {TARGET.parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
