"""Which AWS account and region an operator's command talks to: the tenant file's `deployment`, checked
against the credentials (never another chain's account by a wrong profile)."""

from __future__ import annotations

from typing import Any

from revisit.models.tenant import TenantConfig

CREDENTIALS_HELP = ("set AWS_PROFILE, or `aws sso login --profile <profile>`; docs/deploy.md, 'Credentials'")


class NotReady(Exception):
    """Why a command cannot act on the tenant's account: said before anything is read, built or changed."""


def tenant_account(config: TenantConfig, session: Any = None, region: str | None = None, *,
                   require_deployment: bool = False) -> tuple[Any, str, str]:
    """(session, region, account) for the tenant: the region given, else the tenant file's, else the
    profile's; the credentials' account must be the tenant file's when it names one."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    wanted = config.deployment
    try:
        session = session or boto3.Session()
        credentials = session.get_credentials()
    except BotoCoreError as exc:  # a missing profile, a failing credential_process...
        raise NotReady(f"the AWS credentials could not be loaded: {exc} ({CREDENTIALS_HELP})") from None
    if credentials is None:
        where = f"account {wanted.account}" if wanted else "the tenant's account"
        raise NotReady(f"no AWS credentials: this needs credentials for {where} ({CREDENTIALS_HELP}). "
                       "`make synth` needs none.")
    if wanted is None and require_deployment:
        raise NotReady(f"tenant {config.tenant_id}: the tenant file names no deployment (account and region); add "
                       "`deployment: {account: '123456789012', region: eu-west-1}` (docs/deploy.md, 'Where the "
                       "stack goes')")
    region = region or (wanted.region if wanted else None) or session.region_name
    if region is None:
        raise NotReady("no region: name it in the tenant file's deployment, or with --region")
    try:
        account = session.client("sts", region_name=region).get_caller_identity()["Account"]
    except (BotoCoreError, ClientError) as exc:
        raise NotReady(f"the AWS credentials were refused ({exc}): renew them ({CREDENTIALS_HELP})") from None
    if wanted is not None and account != wanted.account:
        raise NotReady(f"these credentials are for account {account}; tenant {config.tenant_id} deploys to "
                       f"{wanted.account}: switch profile")
    return session, region, account
