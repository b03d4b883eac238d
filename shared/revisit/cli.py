"""The `revisit` command: `demo`, `executions`, `serve`, `sweep`, `integrator`, `import`, `openapi`,
`check-tenant`, `deploy`, `doctor`."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from revisit.errors import ConfigError
from revisit.topology import TOPOLOGY, table_name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="revisit", description="Revisit: patient recall for clinic chains")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run the demo tenant offline: a nightly sweep and six weeks of recall")
    demo.add_argument("--out", type=Path, default=Path("out"))
    demo.add_argument("--patients", type=int, default=5000)
    demo.add_argument("--days", type=int, default=42)
    demo.add_argument("--tenant", type=Path, default=None, help="tenant file (default: tenants/demo.yaml)")
    demo.add_argument("--start", type=start_time, default=None, metavar="YYYY-MM-DD[THH:MM]",
                      help="virtual start, UTC (default 2026-11-23T12:00; a date alone means 12:00 UTC)")

    executions = commands.add_parser("executions", help="list or show the executions of the last offline run")
    executions.add_argument("name", nargs="?", help="an execution name: show its step history")
    executions.add_argument("--out", type=Path, default=Path("out"))
    executions.add_argument("--machine", choices=TOPOLOGY.machine_names)
    executions.add_argument("--status", choices=["RUNNING", "SUCCEEDED", "FAILED", "ABORTED"])
    executions.add_argument("--limit", type=int, default=50)

    serve = commands.add_parser("serve", help="the booking API on 127.0.0.1 over the emulated stack")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--patients", type=int, default=200)
    serve.add_argument("--tenant", type=Path, default=None, help="tenant file (default: tenants/demo.yaml)")
    serve.add_argument("--start", type=start_time, default=None, metavar="YYYY-MM-DD[THH:MM]",
                       help="virtual start, UTC (default 2026-11-23T12:00; a date alone means 12:00 UTC)")

    sweep = commands.add_parser("sweep", help="re-run one night's recall sweep (starts nothing twice)")
    sweep.add_argument("--night", type=night_date, required=True, metavar="YYYY-MM-DD",
                       help="the night's run date, in the tenant's time zone")
    target = sweep.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="a running `revisit serve`, e.g. http://127.0.0.1:8080 (offline)")
    target.add_argument("--tenant", type=Path, help="the tenant file: start the deployed Sweep state machine (AWS)")

    integrator = commands.add_parser("integrator", help="issue or revoke an integrator's API credential (on AWS)")
    integrator.add_argument("action", choices=["issue", "revoke"])
    integrator.add_argument("name_or_key", help="the integrator's name (issue) or key id (revoke)")
    integrator.add_argument("--tenant", type=Path, required=True, help="the tenant file")
    integrator.add_argument("--rate", type=int, default=10, help="requests per second (issue)")
    integrator.add_argument("--clinics", default="", help="comma-separated clinic ids it may see (issue; all if empty)")
    integrator.add_argument("--usage-plan-id", help="API Gateway usage plan to attach the key to (issue)")

    importing = commands.add_parser("import", help="load patients from a practice-management export (X4)")
    importing.add_argument("what", choices=["patients"])
    importing.add_argument("file", type=Path, help="a CSV or JSON export (columns: revisit.patient_import)")
    importing.add_argument("--tenant", type=Path, required=True, help="the tenant file: its clinics and recall types")
    importing.add_argument("--url", required=True,
                           help="the booking API: the stage or custom domain on AWS, http://127.0.0.1:8080 offline")
    importing.add_argument("--token", required=True, help="an integrator credential (rvk_...)")
    importing.add_argument("--check", action="store_true", help="check the file only; write nothing")

    commands.add_parser("openapi", help="print the booking API's OpenAPI document (docs/openapi.json)")
    screens = commands.add_parser("screens", help="a screenshot of every patient and staff page, in Chromium "
                                  "(make demo's last step; skipped without Chromium)")
    screens.add_argument("--out", type=Path, default=Path("out/screens"))

    check = commands.add_parser("check-tenant", help="validate tenant files; errors name the file and field")
    check.add_argument("files", nargs="+", type=Path)

    deploy = commands.add_parser("deploy", help="deploy one tenant's stack to the account its file names "
                                 "(make deploy TENANT=x; needs AWS credentials)")
    deploy.add_argument("--tenant", type=Path, required=True, help="the tenant file")
    deploy.add_argument("--yes", action="store_true", help="do not ask before IAM or security-group changes")

    publish = commands.add_parser("publish-console", help="upload the staff console's files to a deployed "
                                  "tenant's site (the last step of revisit deploy)")
    publish.add_argument("--tenant", type=Path, required=True, help="the tenant file")

    doctor = commands.add_parser("doctor", help="check a deployed tenant: each item ok or missing, with the fix "
                                 "(exit 1 when something blocks sending)")
    doctor.add_argument("--tenant", type=Path, required=True, help="the tenant file")
    doctor.add_argument("--region", help="the stack's region (default: the tenant file's deployment, else the profile's)")

    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            return _demo(args)
        if args.command == "executions":
            return _executions(args)
        if args.command == "serve":
            return _serve(args)
        if args.command == "sweep":
            return _sweep(args)
        if args.command == "integrator":
            return _integrator(args)
        if args.command == "import":
            return _import(args)
        if args.command == "deploy":
            return _deploy(args)
        if args.command == "doctor":
            return _doctor(args)
        if args.command == "publish-console":
            return _publish_console(args)
        if args.command == "screens":
            from revisit.offline.screens import take

            take(args.out)
            return 0
        if args.command == "openapi":
            from revisit.api.app import openapi_document

            print(json.dumps(json.loads(openapi_document()), indent=2, ensure_ascii=False))
            return 0
        return _check(args)
    except ConfigError as exc:
        print(f"revisit: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `revisit executions | head`
        sys.stderr.close()
        return 0


def _import(args: argparse.Namespace) -> int:
    """Every row checked first; nothing is written unless all are good. Then each patient through the
    booking API: created, or (the same clinic and patient number again) updated. Safe to run twice."""
    from revisit.config import load_tenant
    from revisit.patient_import import read_patient_file

    if not args.file.is_file():
        print(f"revisit: file: {args.file} does not exist", file=sys.stderr)
        return 2
    config = load_tenant(args.tenant)
    rows, problems = read_patient_file(args.file, config, datetime.now(UTC).date())
    for problem in problems:
        print(f"revisit: {args.file}: {problem}", file=sys.stderr)
    if problems:
        print(f"revisit: {len(problems)} row(s) rejected: nothing imported", file=sys.stderr)
        return 2
    if args.check:
        print(f"{len(rows)} patient(s) ready to import")
        return 0
    counts = {"created": 0, "updated": 0}
    changeable = ("first_name", "last_name", "date_of_birth", "language", "phone", "email", "sms_consent",
                  "email_consent", "last_visit", "recalls")
    for row in rows:
        status, answer = _api(args.url, args.token, "POST", "/patients", row.body)
        if status == 409:
            changes = {key: row.body[key] for key in changeable if key in row.body}
            status, answer = _api(args.url, args.token, "PATCH", f"/patients/{row.body['patient_id']}", changes)
            counts["updated"] += status == 200
        else:
            counts["created"] += status == 201
        if status not in (200, 201):
            print(f"revisit: {args.file}: line {row.line}: the API answered {status}: {answer} "
                  f"({counts['created']} created, {counts['updated']} updated before it; run again to finish)",
                  file=sys.stderr)
            return 1
    print(f"{len(rows)} patient(s) imported: {counts['created']} created, {counts['updated']} updated")
    return 0


def _api(url: str, token: str, method: str, path: str, body: dict) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url.rstrip("/") + path, method=method, data=json.dumps(body).encode(),  # noqa: S310
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except (urllib.error.URLError, OSError) as error:
        return 0, f"not reachable ({getattr(error, 'reason', error)})"


def _integrator(args: argparse.Namespace) -> int:
    """Against the deployed tenant (AWS credentials from the environment): the token is printed once."""
    from revisit.adapters.dynamo.credentials import CredentialRepository
    from revisit.api.auth import CredentialStore, usage_key
    from revisit.config import load_tenant
    from revisit.operations.account import NotReady, tenant_account

    config = load_tenant(args.tenant)
    try:
        session, region, _ = tenant_account(config)
    except NotReady as exc:
        print(f"revisit integrator: {exc}", file=sys.stderr)
        return 2
    table = session.resource("dynamodb", region_name=region).Table(table_name(config.tenant_id))
    store = CredentialStore(CredentialRepository(table))
    if args.action == "revoke":
        store.revoke(args.name_or_key)
        print(f"revoked {args.name_or_key} (refused within 5 minutes, the authorizer's cache)")
        return 0
    if args.rate < 1:
        print("revisit: --rate must be at least 1", file=sys.stderr)
        return 2
    clinics = tuple(c for c in args.clinics.split(",") if c)
    unknown = sorted(set(clinics) - {c.clinic_id for c in config.clinics})
    if unknown:
        print(f"revisit: --clinics: unknown clinic {', '.join(unknown)}", file=sys.stderr)
        return 2
    integrator, token = store.issue(args.name_or_key, config.tenant_id, args.rate, clinics)
    if args.usage_plan_id:  # the authorizer answers usageIdentifierKey = key id: the plan needs that API key
        gateway = session.client("apigateway", region_name=region)
        key = gateway.create_api_key(name=f"{config.tenant_id}-{integrator.key_id}", value=usage_key(integrator.key_id),
                                     enabled=True)
        gateway.create_usage_plan_key(usagePlanId=args.usage_plan_id, keyId=key["id"], keyType="API_KEY")
    print(f"integrator {integrator.name}: key id {integrator.key_id}\nAuthorization: Bearer {token}")
    return 0


START = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2})Z?)?$")


def start_time(text: str) -> datetime:
    """--start: YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC; a date alone is 12:00 UTC (the default's time of day)."""
    match = START.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)")
    day, hour, minute = match.groups()
    try:
        moment = datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC).replace(
            hour=int(hour) if hour else 12, minute=int(minute) if minute else 0)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None
    if not 2000 <= moment.year <= 2200:
        raise argparse.ArgumentTypeError(f"{text!r}: a year from 2000 to 2200")
    return moment


def night_date(text: str) -> date:
    """--night: YYYY-MM-DD."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None


def _serve(args: argparse.Namespace) -> int:
    from revisit.offline.demo import DEFAULT_START
    from revisit.offline.serve import serve
    from revisit.offline.stack import ROOT

    if not 0 < args.port < 65536 or args.patients < 0:
        print("revisit: --port must be 1-65535 and --patients not negative", file=sys.stderr)
        return 2
    serve(args.tenant or ROOT / "tenants" / "demo.yaml", args.start or DEFAULT_START, args.port, args.patients,
          ready=lambda text: print(text, flush=True))
    return 0


def rerun_execution_name(tenant_id: str, night: date, now: datetime) -> str:
    """A re-run of the night's sweep: named after the night, and after when it was asked for (its clinic
    pages are new executions; the recalls they select keep their deterministic names, never started twice)."""
    from revisit.domain.naming import sweep_execution_name

    return sweep_execution_name(tenant_id, night, f"rerun-{now:%Y%m%dT%H%M%S}")


def _sweep(args: argparse.Namespace) -> int:
    if args.url:
        return _sweep_offline(args.url, args.night)
    from revisit.config import load_tenant
    from revisit.operations.account import NotReady, tenant_account
    from revisit.topology import state_machine_name

    config = load_tenant(args.tenant)
    try:
        session, region, account = tenant_account(config)
    except NotReady as exc:
        print(f"revisit sweep: {exc}", file=sys.stderr)
        return 2
    arn = (f"arn:{session.get_partition_for_region(region)}:states:{region}:{account}:"
           f"stateMachine:{state_machine_name(config.tenant_id, 'sweep')}")
    name = rerun_execution_name(config.tenant_id, args.night, datetime.now(UTC))
    sfn = session.client("stepfunctions", region_name=region)
    try:
        started = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps({"run_date": args.night.isoformat()}))
    except sfn.exceptions.ExecutionAlreadyExists:
        print(f"revisit: {name} exists already (asked twice within a second): nothing started", file=sys.stderr)
        return 1
    print(f"started {name}\n  {started['executionArn']}\n"
          f"  recalls it selects keep their names (recall-<patient>-<due date>): none starts twice")
    return 0


def _sweep_offline(url: str, night: date) -> int:
    import urllib.error
    import urllib.request

    if not re.match(r"^https?://[^/\s]+/?$", url):
        print(f"revisit: --url: {url!r} is not http://host:port", file=sys.stderr)
        return 2
    # http(s) only: checked above
    request = urllib.request.Request(url.rstrip("/") + "/_local/sweep", method="POST",  # noqa: S310
                                     data=json.dumps({"night": night.isoformat()}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        problem = json.loads(error.read() or b"{}")
        print(f"revisit: {problem.get('field') or 'sweep'}: {problem.get('error', error.reason)}", file=sys.stderr)
        return 2 if error.code == 422 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"revisit: --url: no `revisit serve` answering at {url} ({getattr(error, 'reason', error)})",
              file=sys.stderr)
        return 1
    started = ", ".join(f"{machine} {count}" for machine, count in answer["started"].items() if count)
    kinds: dict[str, int] = {}
    for message in answer["sent"]:
        kinds[message["kind"] or "unknown"] = kinds.get(message["kind"] or "unknown", 0) + 1
    print(f"{answer['execution']}: {answer['status']} (virtual now {answer['now']})\n"
          f"  executions started: {started or 'none'}\n"
          f"  recalls started: {len(answer['recalls_started'])}, cycles opened: {answer['cycles_opened']}\n"
          f"  messages sent meanwhile: {len(answer['sent'])}"
          f"{' (' + ', '.join(f'{k} {v}' for k, v in sorted(kinds.items())) + ')' if kinds else ''}")
    return 0 if answer["status"] == "SUCCEEDED" else 1


def _demo(args: argparse.Namespace) -> int:
    from revisit.offline.demo import DemoOptions, run_demo

    if args.patients < 1 or args.days < 1:
        print("revisit: --patients and --days must be positive", file=sys.stderr)
        return 2
    options = DemoOptions(out=args.out, patients=args.patients, days=args.days)
    if args.start:
        options.start = args.start
    if args.tenant:
        options.tenant_file = args.tenant
    summary = run_demo(options, progress=lambda line: print(line, flush=True))
    print((args.out / "summary.md").read_text())
    return 0 if not summary["lambda_errors"] else 1


def _executions(args: argparse.Namespace) -> int:
    path = args.out / "executions.jsonl"
    if not path.exists():
        print(f"revisit: {path} not found: run `revisit demo --out {args.out}` first", file=sys.stderr)
        return 2
    with path.open() as handle:
        records = [json.loads(line) for line in handle]
    if args.name:
        record = next((r for r in records if r["name"] == args.name), None)
        if record is None:
            print(f"revisit: no execution named {args.name!r}", file=sys.stderr)
            return 2
        print(f"{record['name']}  {record['machine']}  {record['status']}  {record['start']} -> {record['stop']}")
        print(f"{'ID':>4}  {'TYPE':<28} {'STEP':<22} {'TIMESTAMP':<26} ERROR")
        for event in record["events"]:
            print(f"{event['id']:>4}  {event['type']:<28} {event['step'] or '':<22} {event['at']:<26} "
                  f"{event['error'] or ''} {event['cause'] or ''}".rstrip())
        return 0
    shown = [r for r in records if (not args.machine or r["machine"] == args.machine)
             and (not args.status or r["status"] == args.status)]
    print(f"{'NAME':<40} {'MACHINE':<8} {'STATUS':<10} {'STARTED':<26} {'ENDED':<26} EVENTS")
    for record in shown[: args.limit]:
        print(f"{record['name']:<40} {record['machine']:<8} {record['status']:<10} {record['start']:<26} "
              f"{record['stop'] or '':<26} {len(record['events'])}")
    if len(shown) > args.limit:
        print(f"... {len(shown) - args.limit} more (use --limit, --machine, --status)")
    return 0


def _deploy(args: argparse.Namespace) -> int:
    from revisit.config import load_tenant
    from revisit.operations.deploy import DeployRefused, deploy

    config = load_tenant(args.tenant)
    try:
        return deploy(args.tenant, config, None, approve=args.yes)
    except DeployRefused as exc:
        print(f"revisit deploy: {exc}", file=sys.stderr)
        return 2


def _publish_console(args: argparse.Namespace) -> int:
    import time

    from revisit.config import load_tenant
    from revisit.operations.account import NotReady, tenant_account
    from revisit.operations.console import NotDeployed, publish, stack_outputs
    from revisit.operations.doctor import stack_name

    config = load_tenant(args.tenant)
    try:
        session, region, _ = tenant_account(config)
        outputs = stack_outputs(session.client("cloudformation", region_name=region), stack_name(config))
        keys = publish(outputs, region, session.client("s3", region_name=region),
                       session.client("cloudfront", region_name=region), f"revisit-{int(time.time())}")
    except (NotReady, NotDeployed) as exc:
        print(f"revisit publish-console: {exc}", file=sys.stderr)
        return 2
    print(f"console published: {', '.join(keys)}; {outputs.get('ConsoleUrl', '')}")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from revisit.config import load_tenant
    from revisit.operations.account import NotReady, tenant_account
    from revisit.operations.doctor import Clients, examine, report

    config = load_tenant(args.tenant)
    try:
        session, region, account = tenant_account(config, region=args.region)
    except NotReady as exc:
        print(f"revisit doctor: {exc}", file=sys.stderr)
        return 2

    def client(service: str):
        return session.client(service, region_name=region)

    sesv2 = client("sesv2")
    clients = Clients(cloudformation=client("cloudformation"), sesv2=sesv2, ses_account=sesv2,
                      sms=client("pinpoint-sms-voice-v2"), sns=client("sns"), scheduler=client("scheduler"),
                      stepfunctions=client("stepfunctions"))
    print(f"revisit doctor: tenant {config.tenant_id}, account {account}, {region}")
    text, code = report(examine(config, clients))
    print(text)
    return code


def _check(args: argparse.Namespace) -> int:
    from revisit.config import load_tenant

    for path in args.files:
        config = load_tenant(path)
        print(f"{path}: tenant {config.tenant_id}, {len(config.clinics)} clinics, "
              f"{len(config.contact_ladder)} ladder steps: valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
