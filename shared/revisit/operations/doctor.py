"""`revisit doctor`: is a deployed tenant ready to message patients? Each item docs/deploy.md asks for is
checked against the account and printed as ok or missing, with the fix. Items that stop patients' messages
(no stack, an unverified sender, the SES or SMS sandbox, a clinic country without an SMS origination identity,
a spend limit under the tenant's budget, a disabled nightly sweep) make the exit code non-zero.

Read-only: every call is a Describe, Get or List. The clients come from the caller (the CLI's session; the
tests' moto and botocore Stubber)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from revisit import __version__
from revisit.models.tenant import TenantConfig
from revisit.schedules import tenant_schedules

PHONE_NUMBER_ONLY = frozenset({"US", "CA"})
"""Countries where an alphanumeric sender ID is not delivered: SMS need a registered toll-free or 10DLC
number (US) or a long or short code (CA)."""
SENDER_ID_REGISTERED = frozenset({"AU", "AT", "BY", "EG", "FI", "IN", "ID", "IE", "JO", "KZ", "KE", "KW", "PH", "QA",
                                  "RU", "SA", "SG", "ES", "LK", "TH"})
"""Countries with a sender ID registration form in AWS End User Messaging SMS (its user guide, 'Registration
forms', 2026-11): the registration is reviewed before the sender ID is issued."""
TEXT_SPEND_LIMIT = "TEXT_MESSAGE_MONTHLY_SPEND_LIMIT"
SNS_DEFAULT_SPEND_LIMIT = "1"
"""USD a month: SNS's SMS spend limit until it is raised."""
READY_STATUSES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE"})
LAST_SWEEP_MAX_AGE = timedelta(hours=26)
EVERY = {"night": "nightly", "day": "daily", "month": "monthly"}


@dataclass(frozen=True)
class Finding:
    item: str
    ok: bool
    detail: str
    fix: str = ""
    blocks_sending: bool = False


@dataclass(frozen=True)
class Clients:
    cloudformation: Any
    sesv2: Any
    ses_account: Any
    """sesv2 as well; apart so a test can stub GetAccount, which moto does not answer."""
    sms: Any
    """pinpoint-sms-voice-v2 (AWS End User Messaging SMS): the origination identities SNS sends from."""
    sns: Any
    scheduler: Any
    stepfunctions: Any


def stack_name(config: TenantConfig) -> str:
    return f"Revisit-{config.tenant_id}"


def examine(config: TenantConfig, clients: Clients, now: datetime | None = None) -> list[Finding]:
    """Every item, in the order docs/deploy.md takes them. A part that cannot be read (no permission, a
    service this region does not offer) is reported as such, and counts as blocking until it can be read."""
    now = now or datetime.now(UTC)
    try:
        outputs, findings = _stack(config, clients)
    except (ClientError, BotoCoreError) as exc:
        outputs, findings = None, [_unreadable("stack", exc)]
    findings += _guarded("SES", lambda: _ses(config, clients))
    findings += _guarded("SMS", lambda: _sms(config, clients))
    if outputs is None and findings[0].item.endswith("readable"):
        return findings  # the stack could not be read: nothing after it can be judged
    findings += _guarded("schedules", lambda: _schedules(config, clients, deployed=outputs is not None))
    findings += _guarded("after the deploy", lambda: _after_deploy(config, clients, outputs, now))
    return findings


def _guarded(part: str, check: Callable[[], Iterable[Finding]]) -> list[Finding]:
    try:
        return list(check())
    except (ClientError, BotoCoreError) as exc:
        return [_unreadable(part, exc)]


def _unreadable(part: str, exc: Exception) -> Finding:
    code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
    return Finding(f"{part}: readable", False, f"could not be read ({code}); counted as blocking until it can",
                   "give the doctor read access (ReadOnlyAccess and sms-voice:Describe*; docs/deploy.md, "
                   "'Credentials'), and check the service is offered in this region", blocks_sending=True)


def _stack(config: TenantConfig, clients: Clients) -> tuple[dict[str, str] | None, list[Finding]]:
    name = stack_name(config)
    try:
        [stack] = clients.cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" not in str(exc):
            raise
        return None, [Finding(f"stack {name} deployed", False, "not in this account and region",
                              f"make deploy TENANT={config.tenant_id} (docs/deploy.md, 'Deploy')", blocks_sending=True)]
    status = stack["StackStatus"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    findings = [Finding(f"stack {name} deployed", status in READY_STATUSES, status,
                        "" if status in READY_STATUSES else "read the stack's events in the CloudFormation console, "
                        f"fix, then make deploy TENANT={config.tenant_id}", blocks_sending=status not in READY_STATUSES
                        and not status.startswith("UPDATE"))]
    deployed = outputs.get("RevisitVersion", "unknown")
    findings.append(Finding(f"stack at version {__version__}", deployed == __version__, f"it runs {deployed}",
                            "" if deployed == __version__ else f"make deploy TENANT={config.tenant_id} "
                            "(running executions finish on their definition: docs/deploy.md, 'Upgrade')"))
    return outputs, findings


def _ses(config: TenantConfig, clients: Clients) -> Iterator[Finding]:
    sender = str(config.sender_email)
    domain = sender.split("@", 1)[1]
    found = []
    for name in (domain, sender):  # a verified domain covers the address; else the address may be verified
        try:
            found.append((name, bool(clients.sesv2.get_email_identity(EmailIdentity=name).get("VerifiedForSendingStatus"))))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NotFoundException":
                raise
        if found and found[-1][1]:
            break
    verified = [name for name, ok in found if ok]
    if not found:
        yield Finding(f"SES identity for {sender}", False, "no identity for the address or its domain",
                      f"create the domain identity {domain} with Easy DKIM and publish its three CNAME records "
                      "(docs/deploy.md, 'Email')", blocks_sending=True)
    else:
        detail = f"{verified[0]}: verified" if verified else ", ".join(f"{name}: not verified" for name, _ in found)
        yield Finding(f"SES identity for {sender}", bool(verified), detail,
                      "" if verified else "publish the identity's DKIM CNAME records; verification follows within "
                      "72 hours (docs/deploy.md, 'Email')", blocks_sending=not verified)
    if config.ses_configuration_set:
        name = config.ses_configuration_set
        try:
            clients.sesv2.get_configuration_set(ConfigurationSetName=name)
            yield Finding(f"SES configuration set {name}", True, "exists")
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NotFoundException":
                raise
            yield Finding(f"SES configuration set {name}", False, "missing: every email would be refused",
                          "create it with its event destinations, or remove ses_configuration_set from the tenant "
                          "file (docs/deploy.md, 'Email')", blocks_sending=True)
    account = clients.ses_account.get_account()
    sending = bool(account.get("SendingEnabled"))
    yield Finding("SES sending enabled", sending, account.get("EnforcementStatus", ""),
                  "" if sending else "the account's sending is paused: read the AWS Health event and the SES "
                  "reputation dashboard, then resume it (docs/operations.md)", blocks_sending=not sending)
    production = bool(account.get("ProductionAccessEnabled"))
    yield Finding("out of the SES sandbox", production, "production access" if production else "sandbox: only "
                  "verified addresses receive email", "" if production else "request production access "
                  "(docs/deploy.md, 'Email')", blocks_sending=not production)


def _pages(call: Callable[..., dict], key: str, **params: Any) -> list[dict]:
    items, token = [], None
    while True:
        answer = call(**params, **({"NextToken": token} if token else {}))
        items += answer.get(key, [])
        token = answer.get("NextToken")
        if not token:
            return items


def _sms(config: TenantConfig, clients: Clients) -> Iterator[Finding]:
    attributes = {a["Name"]: a["Value"] for a in clients.sms.describe_account_attributes()["AccountAttributes"]}
    production = attributes.get("ACCOUNT_TIER") == "PRODUCTION"
    yield Finding("out of the SMS sandbox", production, f"account tier {attributes.get('ACCOUNT_TIER', 'unknown')}",
                  "" if production else "open a case for SMS production access, with the use case (appointment "
                  "recall) and the monthly volume (docs/deploy.md, 'SMS')", blocks_sending=not production)
    numbers = {n["IsoCountryCode"] for n in _pages(clients.sms.describe_phone_numbers, "PhoneNumbers")
               if n.get("Status") == "ACTIVE"}
    sender_ids = {s["IsoCountryCode"]: bool(s.get("Registered"))
                  for s in _pages(clients.sms.describe_sender_ids, "SenderIds") if s["SenderId"] == config.sms_sender_id}
    for country in sorted(config.sms_allowed_countries):
        item = f"SMS origination identity for {country}"
        if country in numbers:
            yield Finding(item, True, "an active phone number")
        elif country in sender_ids and country not in PHONE_NUMBER_ONLY:
            registered = sender_ids[country] or country not in SENDER_ID_REGISTERED
            yield Finding(item, registered, f"sender ID {config.sms_sender_id}" + ("" if registered else ", not registered"),
                          "" if registered else _origination_fix(country, config), blocks_sending=not registered)
        else:
            yield Finding(item, False, "none", _origination_fix(country, config), blocks_sending=True)
    limits = {s["Name"]: s for s in clients.sms.describe_spend_limits()["SpendLimits"]}
    text = limits.get(TEXT_SPEND_LIMIT, {})
    # The account's own limit applies only when Overridden; else the maximum AWS granted it.
    limit = Decimal(text.get("EnforcedLimit" if text.get("Overridden") else "MaxLimit", 0))
    sns_limit = Decimal(clients.sns.get_sms_attributes(attributes=["MonthlySpendLimit"]).get("attributes", {})
                        .get("MonthlySpendLimit", SNS_DEFAULT_SPEND_LIMIT))
    effective = min(limit, sns_limit)
    detail = f"End User Messaging {limit} USD, SNS MonthlySpendLimit {sns_limit} USD"
    budget = config.sms_monthly_budget_usd
    if budget is None:
        yield Finding("SMS spend limit above the tenant's budget", False, f"{detail}; the tenant file sets no "
                      "sms_monthly_budget_usd", "set sms_monthly_budget_usd (docs/capacity.md has the arithmetic), "
                      "then compare")
    else:
        enough = effective >= budget
        yield Finding("SMS spend limit above the tenant's budget", enough, f"{detail}, budget {budget} USD",
                      "" if enough else f"raise the text-message spend limit (End User Messaging SMS) and SNS's "
                      f"MonthlySpendLimit to at least {budget} USD (docs/deploy.md, 'SMS')", blocks_sending=not enough)


def _origination_fix(country: str, config: TenantConfig) -> str:
    if country == "US":
        return "register a toll-free number (or 10DLC brand and campaign) and request it (docs/deploy.md, 'SMS')"
    if country in PHONE_NUMBER_ONLY:
        return f"request a long or short code for {country} (docs/deploy.md, 'SMS')"
    if country in SENDER_ID_REGISTERED:
        return (f"register the sender ID {config.sms_sender_id} for {country} (a registration with the carrier, "
                "weeks ahead) and request it (docs/deploy.md, 'SMS')")
    return f"request the sender ID {config.sms_sender_id} for {country} (docs/deploy.md, 'SMS')"


def _schedules(config: TenantConfig, clients: Clients, *, deployed: bool) -> list[Finding]:
    if not deployed:
        return [Finding("schedules deployed", False, "needs the stack", "deploy first", blocks_sending=True)]
    findings = []
    for spec in tenant_schedules(config):
        try:
            schedule = clients.scheduler.get_schedule(Name=spec.name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            findings.append(Finding(f"{EVERY[spec.every]} schedule {spec.name}", False, "missing",
                                    f"make deploy TENANT={config.tenant_id}", blocks_sending=spec.every == "night"))
            continue
        right = (schedule.get("State") == "ENABLED" and schedule.get("ScheduleExpressionTimezone") == spec.time_zone
                 and schedule.get("ScheduleExpression") == spec.expression)
        findings.append(Finding(
            f"{EVERY[spec.every]} schedule {spec.name}", right,
            f"{schedule.get('State')}, {schedule.get('ScheduleExpression')} {schedule.get('ScheduleExpressionTimezone')}",
            "" if right else f"expected ENABLED, {spec.expression} {spec.time_zone}: redeploy (make deploy "
            f"TENANT={config.tenant_id}) rather than edit it by hand", blocks_sending=not right and spec.every == "night"))
    return findings


def _after_deploy(config: TenantConfig, clients: Clients, outputs: dict[str, str] | None,
                  now: datetime) -> list[Finding]:
    if outputs is None:
        needs = "needs the stack"
        return [Finding("ops topic confirmed by a subscriber", False, needs, "deploy first"),
                Finding("last sweep", False, needs, "deploy first")]
    missing = [key for key in ("OpsTopicArn", "NightlyStateMachineArn") if key not in outputs]
    if missing:  # a stack of a Revisit before these outputs
        return [Finding(f"stack output {key}", False, "the stack does not have it",
                        f"make deploy TENANT={config.tenant_id} (a redeploy adds it)") for key in missing]
    topic = outputs["OpsTopicArn"]
    subscriptions = _pages(clients.sns.list_subscriptions_by_topic, "Subscriptions", TopicArn=topic)
    confirmed = [s for s in subscriptions if s["SubscriptionArn"].startswith("arn:")]
    return [Finding("ops topic confirmed by a subscriber", bool(confirmed), f"{len(confirmed)} confirmed of "
                    f"{len(subscriptions)}", "" if confirmed else f"confirm the email sent to "
                    f"{config.ops_email or config.admin_email} (or subscribe your paging tool to the OpsTopicArn output)"),
            _last_sweep(config, clients, outputs["NightlyStateMachineArn"], now)]


def _last_sweep(config: TenantConfig, clients: Clients, machine: str, now: datetime) -> Finding:
    executions = clients.stepfunctions.list_executions(stateMachineArn=machine, maxResults=1).get("executions", [])
    if not executions:
        return Finding("last sweep", False, "no sweep has run yet", f"the first runs at {config.sweep.local_time:%H:%M} "
                       f"{config.time_zone}; to run one now: revisit sweep --night <date> --tenant <file>")
    last = executions[0]
    started = last["startDate"]
    fresh = now - started <= LAST_SWEEP_MAX_AGE
    ok = last["status"] in ("SUCCEEDED", "RUNNING") and fresh
    detail = f"{last['name']}: {last['status']}, started {started:%Y-%m-%d %H:%M} UTC"
    fix = ""
    if last["status"] in ("FAILED", "TIMED_OUT", "ABORTED"):
        fix = ("open it in the Step Functions console (its Events tab names the step), fix, then re-run the night: "
               "revisit sweep --night <date> --tenant <file> starts nothing twice (docs/operations.md)")
    elif not fresh:
        fix = "no sweep in the last 26 hours: check the nightly schedule and the NoSweepStarted alarm"
    return Finding("last sweep", ok, detail, fix)


def report(findings: list[Finding]) -> tuple[str, int]:
    """The printout and the exit code: 1 when something blocks sending, else 0."""
    lines = []
    for f in findings:
        mark = "ok     " if f.ok else "MISSING"
        lines.append(f"{mark}  {f.item}: {f.detail}" + (" (blocks sending)" if not f.ok and f.blocks_sending else ""))
        if not f.ok and f.fix:
            lines.append(f"         fix: {f.fix}")
    missing = [f for f in findings if not f.ok]
    blocking = [f for f in missing if f.blocks_sending]
    lines.append(f"{len(findings) - len(missing)} ok, {len(missing)} missing, {len(blocking)} blocking sending")
    return "\n".join(lines), 1 if blocking else 0
