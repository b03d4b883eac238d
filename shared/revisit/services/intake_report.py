"""I15: the daily intake report: the patients registered the day before at each clinic (their first booking),
with their onboarding state (what data is missing, the onboarding and pre-visit tasks, the coverage), and
the day's billed visits (totals, insurance and patient portions, in each clinic's currency and locale).
CSV (a row per new patient), JSON and a self-contained HTML page. Ids, field names, states and amounts
only: no names, no contact details, no notes."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from revisit import clock
from revisit.errors import NotFound
from revisit.models.entities import IntakeRecord, TaskStatus
from revisit.models.steps.intake import IntakeReportRequest, IntakeReportResult
from revisit.rendering import render_report
from revisit.services.context import TenantContext
from revisit.services.sweep import spreadsheet_safe

COLUMNS = ["clinic_id", "patient_id", "registered_at", "appointment_type", "first_visit", "missing",
           "onboarding", "pre_visit", "coverage"]


def _task_state(ctx: TenantContext, task_id: str | None) -> str:
    if task_id is None:
        return "none"
    try:
        task = ctx.tables.tasks.get(task_id)
    except NotFound:
        return "not created"
    return "done" if task.status == TaskStatus.DONE else task.status.value


def _row(ctx: TenantContext, record: IntakeRecord) -> dict:
    zone = ZoneInfo(ctx.config.clinic(record.clinic_id).time_zone)
    return {"clinic_id": record.clinic_id, "patient_id": record.patient_id,
            "registered_at": f"{record.registered_at.astimezone(zone):%Y-%m-%d %H:%M}",
            "appointment_type": record.appointment_type, "first_visit": f"{record.starts_at.astimezone(zone):%Y-%m-%d %H:%M}",
            "missing": " ".join(record.missing), "onboarding": _task_state(ctx, record.onboarding_task_id),
            "pre_visit": _task_state(ctx, record.pre_visit_task_id),
            "coverage": record.coverage.value if record.coverage else "not checked"}


def write_intake_report(request: IntakeReportRequest, ctx: TenantContext) -> IntakeReportResult:
    day = request.scheduled_time.astimezone(ZoneInfo(ctx.config.time_zone)).date() - timedelta(days=1)
    rows, clinics = [], []
    for clinic in ctx.config.clinics:
        clinic_rows = [_row(ctx, r) for r in sorted(ctx.tables.visits.intakes_on(clinic.clinic_id, day),
                                                       key=lambda r: r.registered_at)]
        billed = ctx.tables.visits.billed_on(clinic.clinic_id, day)
        currency = billed[0].currency if billed else None
        clinics.append({
            "clinic_id": clinic.clinic_id, "name": clinic.name, "language": clinic.language.value,
            "registered": len(clinic_rows),
            "complete": sum(1 for r in clinic_rows if not r["missing"]),
            "onboarded": sum(1 for r in clinic_rows if r["onboarding"] == "done"),
            "coverage_active": sum(1 for r in clinic_rows if r["coverage"] == "active"),
            "visits_billed": len(billed), "currency": currency,
            "total": str(sum((b.total for b in billed), Decimal("0.00"))),
            "insurance_portion": str(sum((b.insurance_portion for b in billed), Decimal("0.00"))),
            "patient_portion": str(sum((b.patient_portion for b in billed), Decimal("0.00"))),
            "claims": sum(1 for b in billed if b.claim_id)})
        rows += clinic_rows
    summary = {"tenant_id": ctx.config.tenant_id, "chain": ctx.config.name, "day": day.isoformat(),
               "generated_at": f"{clock.now().astimezone(ZoneInfo(ctx.config.time_zone)):%Y-%m-%d %H:%M} "
                               f"({ctx.config.time_zone})",
               "registered": len(rows), "clinics": clinics}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows({column: spreadsheet_safe(value) for column, value in row.items()} for row in rows)
    html = render_report("intake_daily.html", summary=summary, rows=rows, columns=COLUMNS)
    base = f"reports/intake-daily/{day.isoformat()}"
    outputs = {
        f"{base}.csv": (buffer.getvalue().encode("utf-8"), "text/csv; charset=utf-8"),
        f"{base}.json": (json.dumps({**summary, "rows": rows}, ensure_ascii=False, indent=1).encode("utf-8"),
                         "application/json"),
        f"{base}.html": (html.encode("utf-8"), "text/html; charset=utf-8"),
    }
    for key, (body, content_type) in outputs.items():
        ctx.reports.put(key, body, content_type)
    return IntakeReportResult(day=day, patients=len(rows), report_keys=list(outputs))
