"""The one declaration of Revisit's workflows and functions, and the names of a tenant's resources.

The CDK app (infra/constructs/workflows.py), the offline stack, the Lambda runtime (its settings and its
workflow starter) and the CLI all read this module; nothing else names a workflow or builds a resource
name. Adding a workflow is its files (an ASL file, handler folders, services, templates) and one
`Workflow` entry below; `tests/unit/test_topology.py` fails when a function folder, an ASL substitution
or a template is on disk but not declared here, or declared here but not on disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = ROOT / "functions"
STATE_MACHINES_DIR = ROOT / "infra" / "statemachines"
SUBSTITUTION = re.compile(r"\$\{(\w+)\}")


TABLE_ACTIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem",
                           "ConditionCheckItem", "BatchWriteItem"})
"""The DynamoDB actions a function may declare on the tenant's table and its indexes (IAM's names; a
transaction is authorized item by item, by these)."""
TABLE_READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "ConditionCheckItem"})

SIMPLE_EMAIL, MIME_EMAIL = "simple", "mime"
"""How a function's emails go to SES: text and HTML (ses:SendEmail), or raw MIME for an attachment or
List-Unsubscribe headers (authorized as ses:SendRawEmail)."""


class LinkUse(StrEnum):
    """What a function does with the links patients click (unsubscribe, self-booking, an appointment's page):
    SIGN makes their ids (kms:GenerateMac). The API finds a link by its id, with no KMS call."""

    NONE = "none"
    SIGN = "sign"


@dataclass(frozen=True)
class Function:
    """One Lambda, `functions/<folder>/handler.py`, and what it may do beyond writing its own logs
    (least privilege: the CDK app grants exactly this to the function's own role)."""

    folder: str
    table: tuple[str, ...] = ()
    """The DynamoDB actions it makes on the tenant's table and its indexes (`dynamodb:` omitted). A function
    that messages people also gets what the send ledger's failure paths need: `table_actions`."""
    sms: bool = False
    email: tuple[str, ...] = ()
    """The forms its emails take (SIMPLE_EMAIL, MIME_EMAIL); empty: it sends none."""
    reports: bool = False
    reads_reports: bool = False
    """Lists and reads the reports (the staff console's report pages)."""
    events: bool = False
    """Puts events on the tenant's bus."""
    starts: tuple[str, ...] = ()
    """State machines it starts by execution name (their ARNs come in its environment)."""
    stops: tuple[str, ...] = ()
    """Of those, the ones whose executions it also stops by name (an appointment moved: its notices stop)."""
    invoked_async: bool = False
    """Invoked asynchronously (by SNS): what still fails after Lambda's retries goes to its failure queue
    (encrypted, alarmed), never dropped."""
    links: LinkUse = LinkUse.NONE
    """Makes the ids of the links it sends patients (kms:GenerateMac on the links key)."""
    answers_tasks: bool = False
    """Answers task tokens the workflows wait on (states:SendTaskSuccess, which IAM grants on "*" only)."""
    consumes: tuple[str, ...] = ()
    """The booking API's events (detail-types on the tenant's bus) it receives, through a queue of its own: a
    rule on the bus sends them to the queue, Lambda reads the queue in batches (retries, then a dead-letter
    queue that alarms)."""
    templates: tuple[str, ...] = ()
    """What it renders: message names (`recall_sms` is templates/<lang>/recall_sms.txt.j2; an email's
    subject, text and HTML files share one name) and staff reports (`reports/recall_daily`)."""

    def __post_init__(self) -> None:
        if set(self.stops) - set(self.starts):
            raise ValueError(f"{self.folder}: stops machines it does not start: {sorted(set(self.stops) - set(self.starts))}")
        unknown = (set(self.table) - TABLE_ACTIONS) | (set(self.email) - {SIMPLE_EMAIL, MIME_EMAIL})
        if unknown:
            raise ValueError(f"{self.folder}: unknown DynamoDB actions or email forms {sorted(unknown)}")

    @property
    def table_actions(self) -> tuple[str, ...]:
        """What its role may do on the table: its declared actions, and for a sender what the send-once
        ledger's failure paths need (DeleteItem gives back the claim of a send that certainly did not happen,
        UpdateItem marks one interrupted mid-way unconfirmed)."""
        ledger = ("DeleteItem", "UpdateItem") if (self.sms or self.email) else ()
        return tuple(sorted(set(self.table) | set(ledger)))

    @property
    def writes_table(self) -> bool:
        return bool(set(self.table_actions) - TABLE_READS)


@dataclass(frozen=True)
class Workflow:
    """One state machine: `infra/statemachines/<name>.asl.json`, the Lambdas its Task states invoke
    (`${<Folder>FunctionArn}`) and the state machines it starts itself (`${<Name>StateMachineArn}`)."""

    name: str
    steps: tuple[Function, ...]
    starts: tuple[str, ...] = ()
    definition: Path | None = None
    """Default: infra/statemachines/<name>.asl.json."""
    nightly: str | None = None
    """The name of its nightly schedule (EventBridge Scheduler, at the tenant's sweep time in its zone)."""
    daily: str | None = None
    """The name of its daily schedule (every day at the tenant's report time, in its zone)."""
    monthly: str | None = None
    """The name of its monthly schedule (the 1st of each month at the tenant's report time, in its zone)."""
    starts_itself: bool = False
    """Starts executions of itself (by `$$.StateMachine.Id`): one page, then the next, each bounded."""
    waits_for: tuple[str, ...] = ()
    """Machines (of `starts`, or itself) it starts with `startExecution.sync:2` and waits for."""

    @property
    def asl_path(self) -> Path:
        return self.definition or STATE_MACHINES_DIR / f"{self.name}.asl.json"

    def substitutions(self) -> set[str]:
        """The `${...}` variables its ASL file must use, no more and no fewer."""
        return ({function_arn_variable(step.folder) for step in self.steps}
                | {state_machine_arn_variable(machine) for machine in self.starts})


@dataclass(frozen=True)
class Topology:
    workflows: tuple[Workflow, ...]
    entry_points: tuple[Function, ...] = ()
    """Functions invoked from outside any state machine: the API, its authorizer, inbound SMS."""
    functions_dir: Path = FUNCTIONS_DIR

    @cached_property
    def functions(self) -> dict[str, Function]:
        """Every function by folder, each declared once (a step shared by two workflows is one function)."""
        found: dict[str, Function] = {}
        for function in [step for w in self.workflows for step in w.steps] + list(self.entry_points):
            if found.setdefault(function.folder, function) != function:
                raise ValueError(f"function {function.folder} is declared twice, differently")
        return found

    def workflow(self, name: str) -> Workflow:
        for workflow in self.workflows:
            if workflow.name == name:
                return workflow
        raise KeyError(f"no workflow named {name!r}")

    @property
    def machine_names(self) -> list[str]:
        return [w.name for w in self.workflows]

    def creation_order(self) -> list[Workflow]:
        """A machine's ARN must exist before a machine that starts it: the started ones first."""
        ordered: list[Workflow] = []
        visiting: set[str] = set()

        def visit(workflow: Workflow) -> None:
            if workflow in ordered:
                return
            if workflow.name in visiting:
                raise ValueError(f"workflows start each other in a cycle: {sorted(visiting)}")
            visiting.add(workflow.name)
            for started in workflow.starts:
                visit(self.workflow(started))
            visiting.discard(workflow.name)
            ordered.append(workflow)

        for workflow in self.workflows:
            visit(workflow)
        return ordered

    def handler_path(self, folder: str) -> Path:
        return self.functions_dir / folder / "handler.py"

    def asl_text(self, workflow: Workflow) -> str:
        """The ASL file, after checking it names exactly the declared functions and machines."""
        text = workflow.asl_path.read_text()
        used = set(SUBSTITUTION.findall(text))
        declared = workflow.substitutions()
        if used != declared:
            raise ValueError(
                f"{workflow.asl_path.name}: substitutions not declared in revisit.topology: "
                f"{sorted(used - declared) or 'none'}; declared but unused: {sorted(declared - used) or 'none'}")
        return text

    def definition(self, workflow: Workflow, function_arn, state_machine_arn) -> tuple[str, dict[str, str]]:
        """The ASL text and its substitution values, from two callables: folder -> function ARN and
        machine name -> state machine ARN (CDK tokens on AWS, emulated ARNs offline)."""
        text = self.asl_text(workflow)
        values = {function_arn_variable(step.folder): function_arn(step.folder) for step in workflow.steps}
        values |= {state_machine_arn_variable(machine): state_machine_arn(machine) for machine in workflow.starts}
        return text, values


# --- names of a tenant's resources (the CDK app and the offline stack use these, nothing else) ------
def resource_name(tenant_id: str, *parts: str) -> str:
    return "-".join(("revisit", tenant_id, *(p.replace("_", "-") for p in parts)))


def table_name(tenant_id: str) -> str:
    return resource_name(tenant_id)


def event_bus_name(tenant_id: str) -> str:
    return resource_name(tenant_id)


def reports_bucket_name(tenant_id: str, account: str) -> str:
    return resource_name(tenant_id, "reports", account)


REPORTS_PREFIX = "reports/"
"""Every report's key in the bucket starts with it; the writers' roles may put objects there and nowhere else."""


def function_name(tenant_id: str, folder: str) -> str:
    return resource_name(tenant_id, folder)


def state_machine_name(tenant_id: str, machine: str) -> str:
    return resource_name(tenant_id, machine)


def function_environment(tenant_id: str, table: str, reports_bucket: str, tenant_config_path: str) -> dict[str, str]:
    """What every function finds in its environment (revisit.lambda_runtime.Settings reads it back). The
    functions that put events or start machines also get EVENT_BUS_NAME and <MACHINE>_STATE_MACHINE_ARN."""
    return {"TENANT_ID": tenant_id, "TABLE_NAME": table, "REPORTS_BUCKET": reports_bucket,
            "TENANT_CONFIG_PATH": tenant_config_path, "POWERTOOLS_SERVICE_NAME": resource_name(tenant_id),
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            # No pydantic plugin is shipped; looking for one reads every package's metadata (12 ms a cold start).
            "PYDANTIC_DISABLE_PLUGINS": "__all__"}


METRICS_NAMESPACE = "Revisit"


def metric_dimensions(tenant_id: str) -> dict[str, str]:
    """The dimensions of every metric the functions emit, and so of every alarm and dashboard widget on them:
    CloudWatch matches a metric only with exactly its dimensions (Powertools would add `service` on its own)."""
    return {"service": resource_name(tenant_id), "tenant": tenant_id}


EVENT_BUS_ENVIRONMENT = "EVENT_BUS_NAME"
EVENTS_SOURCE = "revisit.appointments"
"""The source of the booking API's events on the tenant's bus (docs/events.md)."""


def events_queue_name(tenant_id: str, folder: str) -> str:
    """The queue a rule on the tenant's bus fills with the events a function consumes (`Function.consumes`)."""
    return resource_name(tenant_id, folder, "events")


def events_rule_name(tenant_id: str, folder: str) -> str:
    return resource_name(tenant_id, folder)
BOOKING_LINK_PATH = "/b/"
"""Patients' own links on the API's public address: their booking page (services/booking_links.py)."""
UNSUBSCRIBE_LINK_PATH = "/unsubscribe/"
"""And the unsubscribe page of an email (services/unsubscribe.py)."""
LINKS_ENVIRONMENT = ("LINKS_KEY_ID", "PUBLIC_API_URL")
"""The links key and the API's public address, for the functions that sign or check links."""


def _camel(snake: str) -> str:
    return "".join(part.title() for part in snake.split("_"))


def function_arn_variable(folder: str) -> str:
    """`open_recall` -> `OpenRecallFunctionArn`, the ASL substitution for functions/open_recall."""
    return f"{_camel(folder)}FunctionArn"


def state_machine_arn_variable(machine: str) -> str:
    return f"{_camel(machine)}StateMachineArn"


def state_machine_environment(machine: str) -> str:
    """The environment variable carrying a machine's ARN to the functions that start it."""
    return f"{machine.upper()}_STATE_MACHINE_ARN"


# --- what runs -----------------------------------------------------------------------------------------
GET, QUERY, BATCH_GET = "GetItem", "Query", "BatchGetItem"
PUT, UPDATE, DELETE = "PutItem", "UpdateItem", "DeleteItem"

RECALL = Workflow("recall", steps=(
    Function("open_recall", table=(GET, BATCH_GET, PUT, UPDATE)),
    Function("contact_patient", table=(GET, BATCH_GET, QUERY, PUT, UPDATE), sms=True, email=(MIME_EMAIL,), links=LinkUse.SIGN,
             templates=("recall_sms", "recall_email")),
))

SWEEP_CLINIC = Workflow("sweep_clinic", starts=("recall",), starts_itself=True, waits_for=("sweep_clinic",), steps=(
    Function("select_due_patients", table=(QUERY,)),
))

SWEEP = Workflow("sweep", starts=("sweep_clinic",), waits_for=("sweep_clinic",), nightly="nightly-recall-sweep", steps=(
    Function("plan_sweep"),
    Function("count_upcoming", table=(QUERY, UPDATE)),
    Function("write_recall_report", table=(GET, QUERY), reports=True, templates=("reports/recall_daily",)),
    Function("alert_lead_dentist", table=(GET, QUERY, PUT, UPDATE), email=(SIMPLE_EMAIL,),
             templates=("lead_dentist_alert",)),
    Function("email_admin_summary", table=(GET, PUT), email=(SIMPLE_EMAIL,), templates=("admin_summary",)),
))

APPOINTMENT = Workflow("appointment", steps=(
    Function("send_appointment_notice", table=(GET, QUERY, PUT, UPDATE), sms=True,
             email=(SIMPLE_EMAIL, MIME_EMAIL), links=LinkUse.SIGN, templates=(
        "appointment_confirmation_sms", "appointment_reminder_sms", "appointment_instructions_sms",
        "appointment_missed_sms", "appointment_confirmation_email", "appointment_notice_email")),
))

REFERRAL = Workflow("referral", steps=(
    Function("plan_lead", table=(GET, PUT)),
    Function("await_lead", table=(GET, PUT), answers_tasks=True),
    Function("prepare_call", table=(GET, PUT), email=(SIMPLE_EMAIL,), templates=("referral_call_email",)),
))

MONTHLY_REPORTS = Workflow("monthly_reports", monthly="monthly-reports", steps=(
    Function("write_referral_report", table=(QUERY,), reports=True, templates=("reports/referral_monthly",)),
    Function("write_management_report", table=(GET, QUERY), reports=True, templates=("reports/management_monthly",)),
))

REACTIVATION = Workflow("reactivation", steps=(
    Function("reactivate", table=(GET, QUERY, PUT, UPDATE, DELETE), sms=True, email=(MIME_EMAIL,), links=LinkUse.SIGN,
             templates=("reactivation_sms", "reactivation_email")),
))

CAMPAIGN = Workflow("campaign", starts=(), steps=(
    Function("select_campaign_patients", table=(GET, QUERY, PUT), starts=("reactivation",)),
))

INTAKE = Workflow("intake", steps=(
    Function("onboard_patient", table=(GET, PUT)),
    Function("verify_coverage", table=(GET, PUT)),
))

VISIT = Workflow("visit", steps=(
    Function("price_visit", table=(GET, PUT)),
    Function("bill_visit", table=(GET, QUERY, PUT), events=True),
    Function("plan_next_visit", table=(GET, PUT)),
))

DAILY_REPORTS = Workflow("daily_reports", daily="daily-reports", steps=(
    Function("write_intake_report", table=(GET, QUERY), reports=True, templates=("reports/intake_daily",)),
))

TOPOLOGY = Topology(
    workflows=(RECALL, SWEEP_CLINIC, SWEEP, APPOINTMENT, REFERRAL, MONTHLY_REPORTS, REACTIVATION, CAMPAIGN,
               INTAKE, VISIT, DAILY_REPORTS),
    entry_points=(
        Function("api", table=(GET, BATCH_GET, QUERY, PUT, UPDATE, DELETE), events=True, reads_reports=True,
                 starts=("appointment", "referral", "campaign", "visit"), stops=("appointment",), answers_tasks=True,
                 templates=("unsubscribe_page", "self_booking_page", "lead_comment")),
        Function("api_authorizer", table=(GET,)),
        Function("inbound_sms", table=(GET, QUERY, PUT, UPDATE), sms=True, invoked_async=True,
                 templates=("reply_received_sms",)),
        Function("referral_events", table=(GET, QUERY, PUT, UPDATE), answers_tasks=True,
                 consumes=("AppointmentBooked", "AppointmentPaid", "AppointmentCancelled", "AppointmentNoShow")),
        Function("start_intake", table=(GET, QUERY), consumes=("AppointmentBooked",), starts=("intake",)),
    ),
)
