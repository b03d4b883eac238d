#!/usr/bin/env python3
"""CDK entry: one stack per tenant file in tenants/ (or the files named by -c tenants=a.yaml,b.yaml)."""

import os
from pathlib import Path

import aws_cdk as cdk
from revisit.config import load_tenant, tenant_files

from infra.stack import RevisitStack

ROOT = Path(__file__).resolve().parent


def build(app: cdk.App, files: list[Path], layer_dir: Path, env: cdk.Environment | None = None) -> list[RevisitStack]:
    """A customer-managed key on the table needs a region-specific stack: the tenant file's account and region
    (deployment), else CDK_DEFAULT_* (what the CDK CLI sets from the credentials), unless `env` is given."""
    default = cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
                              region=os.environ.get("CDK_DEFAULT_REGION", "us-east-1"))
    stacks = []
    for path in files:
        config = load_tenant(path)  # a bad tenant file fails the synth, naming file and field
        where = env or (cdk.Environment(account=config.deployment.account, region=config.deployment.region)
                        if config.deployment else default)
        stacks.append(RevisitStack(app, f"Revisit-{config.tenant_id}", config=config, tenant_file=path,
                                   layer_dir=layer_dir, env=where))
    return stacks


def main() -> None:
    app = cdk.App()
    names = app.node.try_get_context("tenants")
    files = [ROOT / n for n in names.split(",")] if names else tenant_files(ROOT / "tenants")
    build(app, files, ROOT / "layers" / "build")
    if app.node.try_get_context("nag"):  # make deploy: a finding without its written reason stops the deploy
        import cdk_nag

        cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app), cdk_nag.HIPAASecurityChecks(app))
    app.synth()


if __name__ == "__main__":
    main()
