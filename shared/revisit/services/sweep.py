"""The nightly sweep's steps: R1 select who is due, R11 the daily report, R12 the lead dentist's alert,
R13 the 30-day count, R14 the administrator's summary."""

from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from revisit import clock
from revisit.domain.naming import recall_execution_name, sweep_page_execution_name, sweep_run_id
from revisit.domain.recall_dates import next_due_recall, suggest_visit_date
from revisit.models.common import Role
from revisit.models.entities import CycleStatus, RecallCycle, StaffTask, TaskKind, TaskPriority, TaskStatus
from revisit.models.steps.sweep import (
    AdminSummaryRequest,
    AdminSummaryResult,
    AlertResult,
    ClinicSweep,
    PlanSweepRequest,
    PlanSweepResult,
    RecallToStart,
    ReportResult,
    RunDateRequest,
    SelectDueRequest,
    SelectDueResult,
    UpcomingCount,
)
from revisit.models.tenant import TenantConfig
from revisit.ports import EmailMessage
from revisit.rendering import render, render_report
from revisit.services.context import TenantContext
from revisit.services.delivery import notify_staff_once

UPCOMING_DAYS = 30
REPORT_COLUMNS = [
    "clinic_id", "patient_id", "patient_name", "recall_types", "recall_due_date", "opened_on", "days_overdue", "status", "rung",
    "attempts", "last_channel", "last_contact_at", "suggested_visit_date", "coverage", "execution_name",
]


def plan_sweep(request: PlanSweepRequest, ctx: TenantContext) -> PlanSweepResult:
    zone = ZoneInfo(ctx.config.time_zone)
    sweep = request.input
    run_date = sweep.run_date or (sweep.scheduled_time or clock.now()).astimezone(zone).date()
    horizon = run_date + timedelta(days=ctx.config.sweep.lead_days)
    run_id = sweep_run_id(request.execution_name)
    return PlanSweepResult(
        run_date=run_date,
        horizon_date=horizon,
        clinics=[ClinicSweep(clinic_id=c.clinic_id, run_date=run_date, horizon_date=horizon, run_id=run_id,
                             execution_name=sweep_page_execution_name(c.clinic_id, run_date, 1, run_id))
                 for c in ctx.config.clinics],
    )


def select_due_patients(request: SelectDueRequest, ctx: TenantContext) -> SelectDueResult:
    """R1: one page of the clinic's due patients, from the sparse due index (a Query, never a Scan),
    each with the deterministic execution name that makes a re-run start nothing twice; and the next page's
    execution, unless tonight's capacity for the clinic is reached (the rest, oldest due first, stays on the
    index for the next night)."""
    settings = ctx.config.sweep
    already = (request.page - 1) * settings.page_size  # started by this night's earlier pages
    page_size = min(settings.page_size, settings.max_recalls_per_clinic_per_night - already)
    entries, next_token, items_read = ctx.tables.patients.due_page(
        request.clinic_id, request.horizon_date, page_size, request.page_token
    )
    recalls = []
    for entry in entries:
        due = date.fromisoformat(entry["recall_due_date"])
        recalls.append(
            RecallToStart(
                name=recall_execution_name(entry["patient_id"], due),
                input={"patient_id": entry["patient_id"], "clinic_id": entry["clinic_id"],
                       "recall_due_date": due.isoformat()},
            )
        )
    capacity_reached = next_token is not None and already + len(entries) >= settings.max_recalls_per_clinic_per_night
    # The ops dashboard's sweep: due tonight (against the Recall machine's starts), and clinics over capacity.
    ctx.metrics.count("RecallsDue", len(entries))
    if capacity_reached:
        ctx.metrics.count("SweepCapacityReached")
    next_page = None
    if next_token is not None and not capacity_reached:
        following = request.page + 1
        next_page = ClinicSweep(clinic_id=request.clinic_id, run_date=request.run_date,
                                horizon_date=request.horizon_date, run_id=request.run_id, page=following,
                                page_token=next_token, execution_name=sweep_page_execution_name(
                                    request.clinic_id, request.run_date, following, request.run_id))
    return SelectDueResult(recalls=recalls, next_page_token=next_token, items_read=items_read, next_page=next_page,
                           capacity_reached=capacity_reached)


def count_upcoming(request: RunDateRequest, ctx: TenantContext) -> UpcomingCount:
    """R13: patients whose recall falls due within 30 days and who are not in a cycle yet,
    plus those already in one."""
    horizon = request.run_date + timedelta(days=UPCOMING_DAYS)
    due = sum(ctx.tables.patients.count_due(c.clinic_id, horizon) for c in ctx.config.clinics)
    in_recall = sum(ctx.tables.cycles.count_open(c.clinic_id) for c in ctx.config.clinics)
    for clinic in ctx.config.clinics:  # A1: the night's count of inactive patients, kept day by day (a trend)
        ctx.tables.daily_counts.set(clinic.clinic_id, request.run_date, "inactive",
                                    ctx.tables.patients.count_inactive(clinic.clinic_id, request.run_date))
    return UpcomingCount(due_next_30_days=due, in_recall=in_recall)


def _open_cycles(ctx: TenantContext) -> list[RecallCycle]:
    return [cycle for c in ctx.config.clinics for cycle in ctx.tables.cycles.open_cycles(c.clinic_id)]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """OWASP's rule for CSV: a text cell a spreadsheet would run as a formula starts with a quote instead."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


STARTING = "Starting"
"""Selected tonight, its cycle not open yet (the recall execution is on its way): in the report all the same."""


def report_rows(cycles: list[RecallCycle], run_date: date, config: TenantConfig) -> list[dict]:
    """Times in the clinic's zone; the suggested visit date as of the report's night (R10: never past)."""
    rows = []
    for cycle in sorted(cycles, key=lambda c: (c.clinic_id, c.recall_due_date, c.patient_id)):
        clinic = config.clinic(cycle.clinic_id)
        zone = ZoneInfo(clinic.time_zone)
        rows.append({
            "clinic_id": cycle.clinic_id,
            "patient_id": cycle.patient_id,
            "patient_name": cycle.patient_name,
            "recall_types": " + ".join(_label(config, rt) for rt in cycle.recall_types),
            "recall_due_date": cycle.recall_due_date.isoformat(),
            "opened_on": cycle.opened_at.astimezone(zone).date().isoformat(),
            "days_overdue": max(0, (run_date - cycle.recall_due_date).days),
            "status": cycle.status.recall_status.value,  # as the front desk says it: 'Manual review'
            "rung": cycle.step_index,
            "attempts": cycle.attempts,
            "last_channel": cycle.last_channel.value if cycle.last_channel else "",
            "last_contact_at": f"{cycle.last_contact_at.astimezone(zone):%Y-%m-%d %H:%M}" if cycle.last_contact_at else "",
            "suggested_visit_date": suggest_visit_date(cycle.recall_due_date, run_date, clinic,
                                                       config.closure_days).isoformat(),
            "coverage": cycle.eligibility.status.value if cycle.eligibility else "",
            "execution_name": cycle.execution_name,
        })
    return rows


def _label(config: TenantConfig, recall_type: str) -> str:
    """A recall type as the chain's staff name it (its label in the tenant's language)."""
    labels = next((rt.labels for rt in config.recall_types if rt.recall_type == recall_type), {})
    return labels.get(config.default_language) or labels.get("en") or recall_type


def _starting_rows(ctx: TenantContext, request: RunDateRequest, opened: set[str]) -> list[dict]:
    """Tonight's selection still on the due index: its cycles are opening while the report is written."""
    horizon = request.run_date + timedelta(days=ctx.config.sweep.lead_days)
    recall_types = {rt.recall_type: rt for rt in ctx.config.recall_types}
    rows = []
    for clinic in ctx.config.clinics:
        token, taken = None, 0
        while taken < ctx.config.sweep.max_recalls_per_clinic_per_night:
            entries, token, _ = ctx.tables.patients.due_page(clinic.clinic_id, horizon, ctx.config.sweep.page_size, token)
            for entry in entries[:ctx.config.sweep.max_recalls_per_clinic_per_night - taken]:
                if entry["patient_id"] in opened:
                    continue
                due = date.fromisoformat(entry["recall_due_date"])
                patient = ctx.tables.patients.get(entry["patient_id"])
                types = next_due_recall(patient.recalls, recall_types, ctx.config.sweep.lead_days)
                rows.append({column: "" for column in REPORT_COLUMNS} | {
                    "clinic_id": clinic.clinic_id, "patient_id": entry["patient_id"],
                    "patient_name": patient.display_name,
                    "recall_types": " + ".join(_label(ctx.config, rt) for rt in types.recall_types) if types else "",
                    "recall_due_date": due.isoformat(), "opened_on": request.run_date.isoformat(),
                    "suggested_visit_date": suggest_visit_date(due, request.run_date, clinic,
                                                               ctx.config.closure_days).isoformat(),
                    "days_overdue": max(0, (request.run_date - due).days),
                    "status": STARTING, "rung": 0, "attempts": 0,
                    "execution_name": recall_execution_name(entry["patient_id"], due)})
            taken += len(entries)
            if token is None:
                break
    return rows


def write_recall_report(request: RunDateRequest, ctx: TenantContext) -> ReportResult:
    """R11: every patient needing recall (every open cycle, and tonight's selection whose cycle is still
    opening), as CSV, JSON and a self-contained HTML page a clinic manager reads: the chain's name, a
    summary first, then a section per clinic with times in the clinic's zone."""
    rows = report_rows(_open_cycles(ctx), request.run_date, ctx.config)
    rows += _starting_rows(ctx, request, {row["patient_id"] for row in rows})
    rows.sort(key=lambda r: (r["clinic_id"], r["recall_due_date"], r["patient_id"]))
    base = f"reports/recall-daily/{request.run_date.isoformat()}"
    statuses = [STARTING, *(s.recall_status.value for s in CycleStatus if s.is_open)]
    by_clinic: dict[str, Counter] = {c.clinic_id: Counter() for c in ctx.config.clinics}
    for row in rows:
        by_clinic[row["clinic_id"]][row["status"]] += 1
    weeks = {c.clinic_id: ctx.tables.daily_counts.week(c.clinic_id, request.run_date) for c in ctx.config.clinics}
    figures = {clinic_id: _figures(counts, [r for r in rows if r["clinic_id"] == clinic_id], request.run_date,
                                   weeks[clinic_id]) for clinic_id, counts in by_clinic.items()}
    chain = _figures(sum(by_clinic.values(), Counter()), rows, request.run_date, sum(weeks.values(), Counter()))
    for clinic_id in figures:  # A1: tonight's inactive patients (counted by the sweep's count step)
        figures[clinic_id]["inactive"] = ctx.tables.daily_counts.day(clinic_id, request.run_date)["inactive"]
    chain["inactive"] = sum(f["inactive"] for f in figures.values())
    summary = {"tenant_id": ctx.config.tenant_id, "chain": ctx.config.name, "run_date": request.run_date.isoformat(),
               "generated_at": f"{clock.now().astimezone(ZoneInfo(ctx.config.time_zone)):%Y-%m-%d %H:%M} ({ctx.config.time_zone})",
               "patients_needing_recall": len(rows), "figures": chain,
               "by_clinic": {k: dict(v) for k, v in by_clinic.items()}}

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=REPORT_COLUMNS)
    writer.writeheader()
    writer.writerows({column: spreadsheet_safe(value) for column, value in row.items()} for row in rows)
    totals = {clinic_id: sum(counts.values()) for clinic_id, counts in by_clinic.items()}
    html = render_report("recall_daily.html", summary=summary, rows=rows, columns=REPORT_COLUMNS,
                         statuses=statuses, clinics=ctx.config.clinics, by_clinic=by_clinic, totals=totals,
                         figures=figures, largest_clinic_total=max([1, *totals.values()]))
    outputs = {
        f"{base}.csv": (buffer.getvalue().encode("utf-8"), "text/csv; charset=utf-8"),
        f"{base}.json": (json.dumps({**summary, "rows": rows}, ensure_ascii=False, indent=1).encode("utf-8"),
                         "application/json"),
        f"{base}.html": (html.encode("utf-8"), "text/html; charset=utf-8"),
    }
    for key, (body, content_type) in outputs.items():
        ctx.reports.put(key, body, content_type)
    return ReportResult(keys=list(outputs), rows=len(rows))


def _figures(counts: Counter, rows: list[dict], run_date: date, week: Counter) -> dict[str, int | float | None]:
    """What a manager reads first: who came due tonight, who is being contacted, who no message reached,
    and the week's outcome (the seven days ending tonight): cycles opened, booked, the share booked."""
    return {"due_tonight": sum(1 for r in rows if r["opened_on"] == run_date.isoformat()),
            "opened_this_week": week["opened"], "booked_this_week": week["booked"],
            "conversion": round(week["booked"] / week["opened"], 3) if week["opened"] else None,
            "in_recall": sum(counts.values()), "contacted": counts[CycleStatus.CONTACTED.recall_status.value],
            "still_unreached": counts[CycleStatus.MANUAL_REVIEW.recall_status.value],
            "overdue": sum(1 for r in rows if r["days_overdue"] > 0)}


def alert_lead_dentist(request: RunDateRequest, ctx: TenantContext) -> AlertResult:
    """R12: a review task (and an email, if they asked for alerts) for each clinic's lead dentist, once per
    clinic and night whatever is re-run (the task's id; the email's ledger row)."""
    now = clock.now()
    task_ids, pending_total = [], 0
    for clinic in ctx.config.clinics:
        pending = ctx.tables.cycles.count_open(clinic.clinic_id)
        if pending == 0:
            continue
        pending_total += pending
        task = StaffTask(
            task_id=f"{TaskKind.LEAD_DENTIST_REVIEW.value}-{clinic.clinic_id}-{request.run_date:%Y%m%d}",
            kind=TaskKind.LEAD_DENTIST_REVIEW, role=Role.LEAD_DENTIST, clinic_id=clinic.clinic_id,
            priority=TaskPriority.NORMAL, title=f"Review {pending} pending recall cases",
            due_at=now + timedelta(hours=8), created_at=now,
        )
        task_ids.append(task.task_id)
        ctx.tables.tasks.create(task)  # once: the id is per clinic and night
        # Tonight's review replaces the earlier nights' still open: one review in the lead dentist's queue.
        for earlier in ctx.tables.tasks.open_queue(clinic.clinic_id, Role.LEAD_DENTIST.value):
            if earlier.kind == TaskKind.LEAD_DENTIST_REVIEW and earlier.task_id != task.task_id:
                ctx.tables.tasks.close(earlier.task_id, TaskStatus.CANCELLED, now,
                                       reason=f"replaced by the review of {request.run_date}")
        context = {"clinic_name": clinic.name, "pending_cases": pending,
                   "manual_review": ctx.tables.cycles.count_open(clinic.clinic_id, CycleStatus.MANUAL_REVIEW)}
        for dentist in ctx.config.staff_with_role(Role.LEAD_DENTIST, clinic.clinic_id):
            if dentist.alerts:
                text = render(clinic.language, "lead_dentist_alert.txt", **context)
                message = EmailMessage(to=str(dentist.email), sender=ctx.config.sender_email,
                                       subject=render(clinic.language, "lead_dentist_alert_subject.txt", **context),
                                       text=text, html=f"<p>{html.escape(text)}</p>")
                notify_staff_once(ctx, "lead-dentist-alert", f"{request.run_date}#{dentist.staff_id}",
                                  lambda m=message: ctx.notifier.send_email(m))
    return AlertResult(task_ids=task_ids, pending_cases=pending_total)


def email_admin_summary(request: AdminSummaryRequest, ctx: TenantContext) -> AdminSummaryResult:
    """R14: the administrator's summary with the 30-day count. Sent once per night, whatever is re-run."""
    language = ctx.config.default_language
    context = {"tenant_name": ctx.config.name, "run_date": request.run_date,
               "due_next_30_days": request.due_next_30_days, "in_recall": request.in_recall,
               "report_keys": request.report_keys}
    text = render(language, "admin_summary.txt", **context)
    message = EmailMessage(to=str(ctx.config.admin_email), sender=ctx.config.sender_email,
                           subject=render(language, "admin_summary_subject.txt", **context),
                           text=text, html=f"<pre>{html.escape(text)}</pre>")
    done = notify_staff_once(ctx, "admin-summary", request.run_date.isoformat(),
                             lambda: ctx.notifier.send_email(message))
    return AdminSummaryResult(sent=done.sent_now, message_id=done.entry.message_id)
