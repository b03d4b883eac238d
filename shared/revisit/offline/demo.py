"""`make demo`: a synthetic chain, a night's recall sweep and the weeks of contact that follow, offline.

Writes to the output folder: reports/ (from the emulated S3 bucket), outbox.html and outbox.jsonl (every
SMS and email as the emulated SNS and SES received them, with its virtual send time, the clinic's local time,
the patient, the kind and, for emails, the raw MIME: offline/outbox.py), summary.md and summary.json (every figure
computed from the stored data), executions.jsonl (for `revisit executions`)."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from dateutil.parser import isoparse
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from revisit.domain.sms import segment_budget
from revisit.lambda_runtime import tenant_context
from revisit.models.entities import AttemptOutcome, CycleStatus
from revisit.offline.driver import Driver
from revisit.offline.outbox import RECALL_LEDGER, outbox_records, write_outbox
from revisit.offline.simulation import Simulation
from revisit.offline.stack import ACCOUNT, REGION, ROOT, OfflineStack
from revisit.offline.synthetic import generate
from revisit.services import reactivation
from revisit.topology import TOPOLOGY, function_name

PRICING = json.loads((Path(__file__).resolve().parents[1] / "pricing.json").read_text())
DEFAULT_START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@dataclass
class DemoOptions:
    out: Path
    tenant_file: Path = ROOT / "tenants" / "demo.yaml"
    patients: int = 5000
    days: int = 42
    start: datetime = DEFAULT_START
    seed: int = 7


def run_demo(options: DemoOptions, progress=print) -> dict[str, Any]:
    started = time.monotonic()
    options.out.mkdir(parents=True, exist_ok=True)
    with OfflineStack(options.tenant_file, options.start) as stack:
        ctx = tenant_context()
        patients, appointments = generate(stack.config, options.patients, options.start.date(), options.seed)
        stack.tables.patients.save_many(patients)
        for appointment in appointments:
            ctx.tables.appointments.save(appointment)
        progress(f"seeded {len(patients)} patients in {len(stack.config.clinics)} clinics "
                 f"({len(appointments)} already booked) at virtual {options.start:%Y-%m-%d %H:%M}Z")

        simulation = Simulation(ctx, patients)
        nights = Counter()

        def on_schedule(spec, at, arn):
            nights["sweeps" if spec.state_machine == "sweep" else spec.state_machine] += 1

        driver = Driver(stack, on_schedule=on_schedule)
        end = options.start + timedelta(days=options.days)
        day = options.start.replace(hour=22, minute=0)
        while day < end:
            driver.call_at(day, lambda at=day: _exclusively(stack, simulation.evening, at))
            day += timedelta(days=1)
        checkpoint = options.start
        while checkpoint < end:
            checkpoint = min(end, checkpoint + timedelta(days=7))
            driver.run_until(checkpoint)
            progress(f"  virtual {checkpoint:%Y-%m-%d}: {nights['sweeps']} nightly sweeps, "
                     f"{stack.clock.running} recall executions open, "
                     f"{sum(stack.lambdas.invocations.values())} Lambda invocations, "
                     f"{time.monotonic() - started:.0f}s elapsed")
        summary = _write_outputs(stack, ctx, options, simulation, time.monotonic() - started)
    progress(f"done in {time.monotonic() - started:.0f}s; see {options.out}/summary.md")
    return summary


def _write_outputs(stack: OfflineStack, ctx, options: DemoOptions, simulation: Simulation, elapsed: float) -> dict:
    out = options.out
    s3 = stack.client("s3")
    for obj in s3.list_objects_v2(Bucket=stack.names["bucket"]).get("Contents", []):
        target = out / obj["Key"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(s3.get_object(Bucket=stack.names["bucket"], Key=obj["Key"])["Body"].read())

    executions = _dump_executions(stack, out / "executions.jsonl")
    items = _scan(stack.table)  # the demo reads everything back once, at the end, to report it
    records = outbox_records(ctx.config, stack.table, items)
    outbox = write_outbox(out, records)

    cycles: list[dict] = []
    statuses: Counter[str] = Counter()
    attempts: Counter[str] = Counter()
    languages_by_channel: dict[str, set] = {"sms": set(), "email": set()}
    country_of = {c.clinic_id: c.country for c in ctx.config.clinics}
    next_due_after_visit: list[str] = []
    visited: dict[str, str] = {}
    for item in items:
        sk = item["sk"]
        if sk.startswith("CYCLE#"):
            statuses[item["status"]] += 1
            cycles.append(item)
        elif item.get("last_visit") and item["last_visit"] >= options.start.date().isoformat() and item.get("recall_due_date"):
            next_due_after_visit.append(item["recall_due_date"])  # X1: a visit done in the demo, recalled next on
            visited[item["pk"]] = item["last_visit"]
        elif sk.startswith("ATTEMPT#") and RECALL_LEDGER.match(item.get("cycle_id", "")):  # the recall ladder's
            attempts[f"{item['channel']}:{item['outcome']}"] += 1
            if item["outcome"] == AttemptOutcome.SENT.value and item["channel"] in languages_by_channel:
                languages_by_channel[item["channel"]].add(item.get("language"))
    # Every SMS the emulated SNS sent (recall, appointment notices, answers to replies), at its clinic's price.
    sms_records = [r for r in records if r["channel"] == "sms"]
    segments = sum(r["segments"] for r in sms_records)
    sms_cost = sum(r["segments"] * PRICING["sms_per_segment_by_country"][
        country_of.get(r["clinic_id"], ctx.config.clinics[0].country)] for r in sms_records)
    transitions = executions["transitions"]
    invocations = sum(stack.lambdas.invocations.values())
    emails = outbox["email"]  # every email SES sent: recall, notices, staff
    recalled = max(1, len(cycles))
    aws_cost = (
        transitions * PRICING["step_functions_standard_per_transition"]
        + invocations * (PRICING["lambda_per_request"] + PRICING["lambda_per_gb_second"]
                         * PRICING["lambda_memory_gb"] * PRICING["lambda_assumed_ms_per_invocation"] / 1000)
        + emails * PRICING["ses_per_email"]
    )
    summary = {
        "tenant": ctx.config.tenant_id,
        "virtual_period": f"{options.start:%Y-%m-%d} to {(options.start + timedelta(days=options.days)):%Y-%m-%d}",
        "patients": options.patients,
        "due_cycles_opened": len(cycles),
        # X1, X3: patients whose recall came round again (a missed or cancelled visit, an unanswered ladder),
        # and the next due dates of the visits completed during the run
        "patients_recalled_again": sum(1 for n in Counter(c["pk"] for c in cycles).values() if n > 1),
        "recalled_after_a_completed_visit": len({c["pk"] for c in cycles
                                                 if c["pk"] in visited and c["opened_at"][:10] > visited[c["pk"]]}),
        "completed_visits_next_due": ({"visits": len(next_due_after_visit), "earliest": min(next_due_after_visit),
                                       "latest": max(next_due_after_visit)} if next_due_after_visit else {}),
        # the recall ladder's contacts (appointment notices and answers to replies are in "messages")
        "contacted_by_channel": {ch: attempts[f"{ch}:sent"] + attempts[f"{ch}:task_created"]
                                 for ch in ("sms", "email", "call_task", "manual_review", "admin_task")},
        "skipped": {k: v for k, v in attempts.items() if "skipped" in k},
        "failed_or_unconfirmed": {k: v for k, v in attempts.items() if k.endswith(("failed", "unconfirmed"))},
        "cycles_by_status": dict(statuses),
        "booked": statuses[CycleStatus.BOOKED.value],
        "declined": statuses[CycleStatus.DECLINED.value],
        "opted_out": statuses[CycleStatus.OPTED_OUT.value],
        "in_manual_review": statuses[CycleStatus.MANUAL_REVIEW.value],
        "messages": {"sms": outbox["sms"],
                     "email to patients": sum(1 for r in records if r["channel"] == "email" and r["patient_id"]),
                     "email to staff": sum(1 for r in records if r["channel"] == "email" and not r["patient_id"])},
        "sms_segments": segments,
        "recall_sms_segments": sum(r["segments"] for r in sms_records if (r["kind"] or "").startswith("recall:")),
        "sms_segments_by_language": (by_language := sms_segments_by_language(records)),
        "sms_over_budget": sum(figures["over_budget"] for figures in by_language.values()),
        "languages_messaged": {ch: sorted(v for v in langs if v) for ch, langs in languages_by_channel.items()},
        "simulated_actions": dict(simulation.actions),
        "executions": executions["by_machine"],
        "state_transitions": transitions,
        "lambda_invocations": invocations,
        "recall_cycle_cost": recall_cycle_cost(executions, stack.lambdas.invocations, ctx.config.tenant_id, len(cycles)),
        "lambda_errors": dict(stack.lambdas.errors),
        "estimated_cost_per_1000_recalled_usd": {
            "aws_compute_and_email": round(aws_cost / recalled * 1000, 4),
            "sms": round(sms_cost / recalled * 1000, 2),
        },
        "wall_clock_seconds": round(elapsed, 1),
        "referral_leads": _write_leads(items, out / "leads.json"),
        "inactive_patients": {c.clinic_id: ctx.tables.patients.count_inactive(c.clinic_id, (
            options.start + timedelta(days=options.days)).date()) for c in ctx.config.clinics},
        "reactivation_campaigns": [reactivation.results(ctx, c.campaign_id) for c in ctx.tables.campaigns.all()],
        "intake_and_billing": _intake_and_billing(items),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    (out / "summary.md").write_text(_summary_markdown(summary))
    return summary


def _intake_and_billing(items: list[dict]) -> dict:
    """I1-I17 as the run left them: new patients and their onboarding, visits closed, money by currency
    (Decimal sums, as text), claims by status, treatment plans."""
    intakes = [i for i in items if i["pk"].startswith("INTAKES#")]
    visits = [i for i in items if i["sk"].startswith("VISIT#")]
    claims = [i for i in items if i["sk"].startswith("CLAIM#")]
    plans = [i for i in items if i["sk"].startswith("PLAN#")]
    payments = [i for i in items if i["sk"].startswith("PAYMENT#") and i.get("method") != "insurance"]
    money: dict[str, dict[str, Decimal]] = {}
    for visit in visits:
        if visit.get("patient_portion") is None:
            continue
        figures = money.setdefault(visit["currency"], defaultdict(Decimal))
        for field in ("total", "insurance_portion", "patient_portion"):
            figures[field] += Decimal(str(visit[field]))
        figures["visits"] += 1
    billed_in = {v["appointment_id"]: v.get("currency") for v in visits}
    for payment in payments:  # against a billed visit, in its currency
        if billed_in.get(payment["appointment_id"]) == payment["currency"]:
            money[payment["currency"]]["paid_by_patients"] += Decimal(str(payment["amount"]))
    return {
        "new_patients": len(intakes),
        "new_patients_with_missing_data": sum(1 for i in intakes if i.get("missing")),
        "new_patients_coverage": dict(Counter(i.get("coverage", "no policy") for i in intakes)),
        "visits_closed": len(visits),
        "visits_by_stage": dict(Counter(v["stage"] for v in visits)),
        "money_by_currency": {currency: {k: str(v) for k, v in figures.items()} for currency, figures in sorted(money.items())},
        "claims_by_status": dict(Counter(c["status"] for c in claims)),
        "treatment_plans": len(plans),
        "planned_procedures": sum(len(p["items"]) for p in plans),
    }


def _write_leads(items: list[dict], path: Path) -> dict:
    """Every referral lead with its timeline (ids, stages, comments; not the doctor's notes), and the figures:
    leads by stage and refusal reason, and the paths they took."""
    leads = {i["lead_id"]: {k: v for k, v in i.items() if k in LEAD_FIELDS} | {"timeline": []}
             for i in items if i["sk"].startswith("LEAD#") and i["sk"].count("#") == 1}
    for item in items:
        if item["sk"].startswith("LEAD#") and item["sk"].count("#") > 1 and item["lead_id"] in leads:
            leads[item["lead_id"]]["timeline"].append({k: item[k] for k in (
                "at", "sequence", "event", "by", "stage_before", "stage_after", "applied", "detail")})
    paths: Counter[str] = Counter()
    for lead in leads.values():
        lead["timeline"].sort(key=lambda e: (e["at"], e["sequence"], not e["applied"]))
        applied = [e["event"] for e in lead["timeline"] if e["applied"]]
        missed = any(e in ("appointment_no_show", "appointment_cancelled") for e in applied)
        if lead["stage"] == "success":
            paths["missed or cancelled, rebooked, paid" if missed else "booked and paid"] += 1
        elif lead["stage"] == "failed":
            paths["never reached" if lead.get("refusal_reason") == "never-reached" else "refused with a reason"] += 1
        else:
            paths[f"still open: {lead['stage']}" + (" (after a missed visit)" if missed else "")] += 1
    path.write_text(json.dumps(sorted(leads.values(), key=lambda lead: lead["lead_id"]), indent=1,
                               ensure_ascii=False, default=lambda value: int(value) if isinstance(value, Decimal)
                               and value == value.to_integral_value() else str(value)))
    return {"leads": len(leads), "by_stage": dict(sorted(Counter(lead["stage"] for lead in leads.values()).items())),
            "by_refusal_reason": dict(sorted(Counter(lead["refusal_reason"] for lead in leads.values()
                                                     if lead.get("refusal_reason")).items())),
            "paths": dict(sorted(paths.items())),
            "ignored_events": sum(1 for lead in leads.values() for e in lead["timeline"] if not e["applied"])}


LEAD_FIELDS = ("lead_id", "patient_id", "clinic_id", "procedure_id", "due_date", "stage", "assignee",
               "appointment_id", "call_attempts", "calls_made", "refusal_reason", "comment", "ordered_at", "booked_at",
               "closed_at")


def _scan(table) -> list[dict]:
    items, start = [], None
    while True:
        page = table.scan(**({"ExclusiveStartKey": start} if start else {}))
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def _dump_executions(stack: OfflineStack, path: Path) -> dict:
    """Every execution and its history, read from the emulated Step Functions store (as the outbox is read
    from the emulated SNS and SES): the API would look each execution up by a linear search."""
    backend = stepfunctions_parser_backends[ACCOUNT][REGION]
    machine_of = {arn: machine for machine, arn in stack.state_machine_arns.items()}
    by_machine: dict[str, Counter] = {}
    transitions = 0
    transitions_by_machine: Counter[str] = Counter()
    with path.open("w") as handle:
        for state_machine in backend.state_machines:
            machine = machine_of.get(state_machine.arn)
            if machine is None:
                continue
            counts = by_machine.setdefault(machine, Counter())
            for execution in sorted(state_machine.executions, key=lambda e: e.start_date, reverse=True):
                status = execution.to_describe_output()["status"]
                status = getattr(status, "value", status)  # moto keeps an enum; the API and the file say text
                counts[status] += 1
                events = execution.to_history_output()["events"]
                entered = sum(1 for e in events if e["type"].endswith("StateEntered"))
                transitions += entered
                transitions_by_machine[machine] += entered
                handle.write(json.dumps({
                    "machine": machine, "name": execution.name, "status": status,
                    "start": _utc(execution.start_date).isoformat(),
                    "stop": _utc(execution.stop_date).isoformat() if execution.stop_date else None,
                    "events": [_event(e) for e in events],
                }, default=str) + "\n")
    return {"by_machine": {m: dict(c) for m, c in by_machine.items()}, "transitions": transitions,
            "transitions_by_machine": dict(transitions_by_machine)}


RECALL_PATH = ("recall", "sweep", "sweep_clinic")
"""What a recall cycle costs: its own execution and its share of the nightly sweep's."""


def recall_cycle_cost(executions: dict, invocations: Counter, tenant_id: str, cycles: int) -> dict[str, float]:
    """Step Functions transitions and Lambda invocations per recall cycle (issue 14's measure)."""
    machines = {w.name: w for w in TOPOLOGY.workflows}
    functions = {function_name(tenant_id, step.folder) for m in RECALL_PATH for step in machines[m].steps}
    cycles = max(1, cycles)
    return {"transitions_per_cycle": round(sum(executions["transitions_by_machine"].get(m, 0) for m in RECALL_PATH)
                                           / cycles, 2),
            "invocations_per_cycle": round(sum(n for f, n in invocations.items() if f in functions) / cycles, 2)}


def _utc(moment: datetime | str) -> datetime:
    """moto keeps some instants as ISO text and some as naive UTC datetimes."""
    if isinstance(moment, str):
        moment = isoparse(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _exclusively(stack: OfflineStack, action, at: datetime) -> None:
    """The simulated patients act while executions they start run in moto's threads: one at a time."""
    with stack.lambdas.exclusive():
        action(at)


def _event(event: dict) -> dict:
    details = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
    return {"id": event["id"], "type": event["type"], "at": _utc(event["timestamp"]).isoformat(),
            "step": details.get("name"), "error": details.get("error"), "cause": (details.get("cause") or "")[:300] or None}


def sms_template(kind: str) -> str | None:
    """The template an SMS of this outbox kind was rendered from, for its segment budget (domain/sms.py)."""
    family, _, step = kind.partition(":")
    if family == "recall":
        return "recall_sms"
    if family == "appointment":
        return f"appointment_{step.split('-')[0]}_sms"
    return "reply_received_sms" if family == "reply-answer" else None


def sms_segments_by_language(records: list[dict]) -> dict[str, dict]:
    """Per language of the patient: every SMS sent (recall, notices, answers), its segments and encodings."""
    by_language: dict[str, dict] = {}
    for record in records:
        if record["channel"] != "sms":
            continue
        figures = by_language.setdefault(record["language"] or "unknown", {
            "sms": 0, "segments": 0, "max_segments": 0, "encodings": Counter(), "max_segments_by_kind": {},
            "over_budget": 0})
        figures["sms"] += 1
        template = sms_template(record["kind"] or "")
        if template and record["segments"] > segment_budget(template, record["encoding"]):
            figures["over_budget"] += 1
        figures["segments"] += record["segments"]
        figures["max_segments"] = max(figures["max_segments"], record["segments"])
        figures["encodings"][record["encoding"]] += 1
        kind = (record["kind"] or "unknown").split(":")[0]
        figures["max_segments_by_kind"][kind] = max(figures["max_segments_by_kind"].get(kind, 0), record["segments"])
    return {language: {**figures, "segments_per_sms": round(figures["segments"] / figures["sms"], 2),
                       "encodings": dict(figures["encodings"])}
            for language, figures in sorted(by_language.items())}


def _summary_markdown(summary: dict) -> str:
    lines = [f"# Revisit demo: tenant `{summary['tenant']}`, {summary['virtual_period']} (virtual time)", "",
             "| figure | value |", "|---|---|"]
    for key in ("patients", "due_cycles_opened", "patients_recalled_again", "recalled_after_a_completed_visit", "booked", "declined", "opted_out", "in_manual_review",
                "sms_segments", "recall_sms_segments", "sms_over_budget", "state_transitions", "lambda_invocations", "wall_clock_seconds"):
        lines.append(f"| {key.replace('_', ' ')} | {summary[key]} |")
    for channel, count in summary["contacted_by_channel"].items():
        lines.append(f"| contacted by {channel.replace('_', ' ')} | {count} |")
    for channel, count in summary["messages"].items():
        lines.append(f"| {channel} messages sent | {count} |")
    for key, count in {**summary["skipped"], **summary["failed_or_unconfirmed"]}.items():
        lines.append(f"| {key.replace(':', ' ').replace('_', ' ')} | {count} |")
    for status, count in sorted(summary["cycles_by_status"].items()):
        lines.append(f"| cycles {status} | {count} |")
    if summary["completed_visits_next_due"]:
        done = summary["completed_visits_next_due"]
        lines.append(f"| visits completed, recalled next | {done['visits']}, due {done['earliest']} to {done['latest']} |")
    for action, count in sorted(summary["simulated_actions"].items()):
        lines.append(f"| simulated: {action} | {count} |")
    for machine, counts in summary["executions"].items():
        if not counts:
            continue
        lines.append(f"| {machine} executions | {', '.join(f'{k} {v}' for k, v in sorted(counts.items()))} |")
    leads = summary["referral_leads"]
    lines.append(f"| referral leads (doctors' orders) | {leads['leads']} |")
    for stage, count in leads["by_stage"].items():
        lines.append(f"| leads {stage} | {count} |")
    for route, count in leads["paths"].items():
        lines.append(f"| leads: {route} | {count} |")
    for reason, count in leads["by_refusal_reason"].items():
        lines.append(f"| leads failed: {reason} | {count} |")
    lines.append(f"| lead events recorded, not applied (late or repeated) | {leads['ignored_events']} |")
    lines.append(f"| inactive patients at the end, by clinic | {summary['inactive_patients']} |")
    for campaign in summary["reactivation_campaigns"]:
        name = campaign["name"]
        lines.append(f"| campaign {name}: goal | {campaign['goal']['patients']} by {campaign['goal']['by']} |")
        lines.append(f"| campaign {name}: targeted, contacted, recovered | {campaign['targeted']}, "
                     f"{campaign['contacted']}, {campaign['recovered']} ({campaign['goal_reached']:.0%} of the goal) |")
        lines.append(f"| campaign {name}: outcomes | {', '.join(f'{k} {v}' for k, v in campaign['outcomes'].items() if v)} |")
        lines.append(f"| campaign {name}: responses by link | {campaign['responses_by_link'] or '-'} |")
        lines.append(f"| campaign {name}: median days to booking | {campaign['median_days_to_booking']} |")
    billing = summary["intake_and_billing"]
    lines.append(f"| new patients (intake) | {billing['new_patients']}, {billing['new_patients_with_missing_data']} "
                 f"with data missing; coverage {billing['new_patients_coverage']} |")
    lines.append(f"| visits closed | {billing['visits_closed']} ({billing['visits_by_stage']}) |")
    for currency, figures in billing["money_by_currency"].items():
        lines.append(f"| billed in {currency} | {figures['visits']} visits: total {figures['total']}, insurance "
                     f"{figures['insurance_portion']}, patients {figures['patient_portion']}, paid by patients "
                     f"{figures.get('paid_by_patients', '0')} |")
    lines.append(f"| claims by status | {billing['claims_by_status']} |")
    lines.append(f"| treatment plans drafted | {billing['treatment_plans']} ({billing['planned_procedures']} procedures) |")
    cost = summary["estimated_cost_per_1000_recalled_usd"]
    lines.append(f"| est. AWS cost per 1,000 recalled (Step Functions, Lambda, SES) | ${cost['aws_compute_and_email']} |")
    lines.append(f"| est. SMS cost per 1,000 recalled | ${cost['sms']} |")
    lines.append(f"| languages messaged | {summary['languages_messaged']} |")
    lines += ["", "SMS segments per language (every SMS sent: recall, appointment notices, answers to replies):", "",
              "| language | SMS | segments | per SMS | max | over budget | encodings | max by kind |",
              "|---|---|---|---|---|---|---|---|"]
    for language, figures in summary["sms_segments_by_language"].items():
        encodings = ", ".join(f"{name} {count}" for name, count in sorted(figures["encodings"].items()))
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(figures["max_segments_by_kind"].items()))
        lines.append(f"| {language} | {figures['sms']} | {figures['segments']} | {figures['segments_per_sms']} | "
                     f"{figures['max_segments']} | {figures['over_budget']} | {encodings} | {kinds} |")
    return "\n".join(lines) + "\n"
