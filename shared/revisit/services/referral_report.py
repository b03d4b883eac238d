"""The monthly referral report: the leads ordered in a month, by stage and refusal reason, the share booked
and succeeded, and the median days from order to booking, per clinic and per registrar; CSV (a row per
lead), JSON and a self-contained HTML page with a chart. Ids, stages and days only: no names, no notes."""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from revisit import clock
from revisit.domain.leads import LeadStage
from revisit.models.entities import Lead
from revisit.models.steps.referral import ReferralReportRequest, ReferralReportResult
from revisit.rendering import render_report
from revisit.services.context import TenantContext
from revisit.services.sweep import spreadsheet_safe

COLUMNS = ["lead_id", "clinic_id", "procedure_id", "assignee", "ordered_on", "due_date", "stage", "refusal_reason",
           "days_to_booking", "calls_made"]
EARLIER_MONTHS = 2
"""The report also restates the two months before, as they stand now (a month's orders keep moving)."""
STAGES = [stage.value for stage in LeadStage]


def report_month(scheduled_time: datetime, time_zone: str) -> str:
    """The calendar month before the schedule fired (the 1st of a month reports the month that ended)."""
    local = scheduled_time.astimezone(ZoneInfo(time_zone)).date()
    return (local.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def _row(lead: Lead) -> dict:
    days = (lead.booked_at - lead.ordered_at).days if lead.booked_at else None
    return {"lead_id": lead.lead_id, "clinic_id": lead.clinic_id, "procedure_id": lead.procedure_id,
            "assignee": lead.assignee or "", "ordered_on": lead.ordered_at.date().isoformat(),
            "due_date": lead.due_date.isoformat(), "stage": lead.stage.value,
            "refusal_reason": lead.refusal_reason or "", "days_to_booking": days, "calls_made": lead.calls_made}


def figures(rows: list[dict]) -> dict:
    """Leads by stage and refusal reason; booked = ever booked (booked or success), conversion = success."""
    stages = Counter(row["stage"] for row in rows)
    days = [row["days_to_booking"] for row in rows if row["days_to_booking"] is not None]
    total = len(rows)
    return {"leads": total, "by_stage": {stage: stages[stage] for stage in STAGES},
            "by_refusal_reason": dict(sorted(Counter(r["refusal_reason"] for r in rows if r["refusal_reason"]).items())),
            "booked": len(days), "booked_rate": round(len(days) / total, 3) if total else None,
            "conversion": round(stages["success"] / total, 3) if total else None,
            "median_days_to_booking": _whole_or_half(statistics.median(days)) if days else None}


def _whole_or_half(value: float) -> int | float:
    """A median of days: 12, or 12.5 between two."""
    return int(value) if float(value).is_integer() else round(value, 1)


def _month_rows(ctx: TenantContext, month: str) -> list[dict]:
    return sorted((_row(lead) for clinic in ctx.config.clinics
                   for lead in ctx.tables.leads.ordered_in_month(clinic.clinic_id, month)),
                  key=lambda r: (r["clinic_id"], r["ordered_on"], r["lead_id"]))


def _months_before(month: str, count: int) -> list[str]:
    first = date.fromisoformat(f"{month}-01")
    found = []
    for _ in range(count):
        first = (first - timedelta(days=1)).replace(day=1)
        found.append(first.strftime("%Y-%m"))
    return found


def write_referral_report(request: ReferralReportRequest, ctx: TenantContext) -> ReferralReportResult:
    month = report_month(request.scheduled_time, ctx.config.time_zone)
    rows = _month_rows(ctx, month)
    by_clinic = {c.clinic_id: figures([r for r in rows if r["clinic_id"] == c.clinic_id]) for c in ctx.config.clinics}
    registrars = sorted({r["assignee"] for r in rows if r["assignee"]})
    by_registrar = {staff_id: figures([r for r in rows if r["assignee"] == staff_id]) for staff_id in registrars}
    summary = {"tenant_id": ctx.config.tenant_id, "chain": ctx.config.name, "month": month,
               "generated_at": f"{clock.now().astimezone(ZoneInfo(ctx.config.time_zone)):%Y-%m-%d %H:%M} "
                               f"({ctx.config.time_zone})",
               "figures": figures(rows), "by_clinic": by_clinic, "by_registrar": by_registrar,
               "earlier_months": {earlier: figures(_month_rows(ctx, earlier))
                                  for earlier in _months_before(month, EARLIER_MONTHS)}}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows({column: spreadsheet_safe(value) for column, value in row.items()} for row in rows)
    largest = max([1, *(f["leads"] for f in by_clinic.values())])
    labels = {reason: ctx.config.refusal_label(reason, ctx.config.default_language)
              for reason in ctx.config.refusal_reasons}
    html = render_report("referral_monthly.html", summary=summary, rows=rows, columns=COLUMNS, stages=STAGES,
                         reason_labels=labels,
                         clinics=ctx.config.clinics, staff={m.staff_id: m for m in ctx.config.staff}, largest=largest)
    base = f"reports/referral-monthly/{month}"
    outputs = {
        f"{base}.csv": (buffer.getvalue().encode("utf-8"), "text/csv; charset=utf-8"),
        f"{base}.json": (json.dumps({**summary, "rows": rows}, ensure_ascii=False, indent=1).encode("utf-8"),
                         "application/json"),
        f"{base}.html": (html.encode("utf-8"), "text/html; charset=utf-8"),
    }
    for key, (body, content_type) in outputs.items():
        ctx.reports.put(key, body, content_type)
    return ReferralReportResult(month=month, leads=len(rows), report_keys=list(outputs))

