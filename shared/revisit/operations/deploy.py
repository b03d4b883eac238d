"""`make deploy TENANT=x`: one tenant's stack, in its own account and region, after the checks that keep a
wrong deploy from starting: the tenant file is valid, there are AWS credentials, and they are for the
account the tenant file names. Then the layer, a synth with cdk-nag, a diff, and the deploy of that stack only.
`make synth` needs none of this (no credentials)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from revisit.models.tenant import TenantConfig
from revisit.operations.account import NotReady, tenant_account
from revisit.operations.doctor import stack_name

ROOT = Path(__file__).resolve().parents[3]

class DeployRefused(Exception):
    """A reason not to start: said before anything is built or changed."""


def preflight(config: TenantConfig, session: Any) -> tuple[str, str]:
    """The account and region to deploy to, or DeployRefused naming what is wrong."""
    try:
        _, region, account = tenant_account(config, session, require_deployment=True)
    except NotReady as exc:
        raise DeployRefused(str(exc)) from None
    return account, region


def commands(tenant_file: Path, config: TenantConfig, *, approve: bool) -> list[list[str]]:
    """The steps after the preflight, each one a process (the CDK CLI is node's)."""
    cdk = ["npx", "--no-install", "cdk"]
    context = ["-c", f"tenants={tenant_file.resolve()}", "-c", "nag=true"]
    stack = stack_name(config)
    return [
        # The layer ships bytecode only when built by the runtime's Python (LAYER_PYTHON=python3.14, docs/deploy.md).
        [os.environ.get("LAYER_PYTHON") or sys.executable, str(ROOT / "layers" / "build_layer.py")],
        [*cdk, "synth", *context, "--quiet", stack],
        [*cdk, "diff", *context, stack],
        [*cdk, "deploy", *context, stack, "--require-approval", "never" if approve else "broadening"],
        [sys.executable, "-m", "revisit.cli", "publish-console", "--tenant", str(tenant_file)],
    ]


def deploy(tenant_file: Path, config: TenantConfig, session: Any, *, approve: bool = False,
           run: Callable[..., Any] = subprocess.run, say: Callable[[str], None] = print) -> int:
    account, region = preflight(config, session)
    environment = {"CDK_DEFAULT_ACCOUNT": account, "CDK_DEFAULT_REGION": region, "AWS_REGION": region}
    say(f"deploying {stack_name(config)} to account {account}, {region}")
    for command in commands(tenant_file, config, approve=approve):
        say("$ " + " ".join(_shown(command)))
        done = run(command, cwd=ROOT, env=_environment(environment), check=False)
        if done.returncode != 0:
            say(f"stopped: `{' '.join(_shown(command))}` failed (exit {done.returncode}); nothing after it ran")
            return done.returncode
    say(f"deployed; now: revisit doctor --tenant {tenant_file} (docs/deploy.md, 'Check')")
    return 0


def _shown(command: Sequence[str]) -> list[str]:
    return ["python" if part == sys.executable else part for part in command]


def _environment(extra: dict[str, str]) -> dict[str, str]:
    import os

    return {**os.environ, **extra}
