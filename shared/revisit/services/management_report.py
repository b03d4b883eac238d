"""The monthly management report: what the recall calls gave (R26), how the patients keep their recall
(R25), how many patients are inactive and how that moved (A1), and what the reactivation campaigns
recovered (A8); per clinic (and per caller for the calls). CSV, JSON and a self-contained HTML page."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from revisit import clock
from revisit.models.steps.referral import ReferralReportRequest, ReferralReportResult
from revisit.rendering import render_report
from revisit.services import reactivation
from revisit.services.context import TenantContext
from revisit.services.referral_report import report_month

CALLS = ("recall_calls", "recall_calls_reached", "recall_calls_booked")
SCORE_BANDS = ((0, 39, "0-39"), (40, 59, "40-59"), (60, 79, "60-79"), (80, 100, "80-100"))


def _month_days(month: str) -> tuple[date, date]:
    first = date.fromisoformat(f"{month}-01")
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def call_figures(counts: Counter, suffix: str = "") -> dict:
    """R26: calls made, reached, booked, and the success rate (booked per call made)."""
    made, reached, booked = (counts[f"{name}{suffix}"] for name in CALLS)
    return {"calls": made, "reached": reached, "booked": booked,
            "reached_rate": round(reached / made, 3) if made else None,
            "success_rate": round(booked / made, 3) if made else None}


def write_management_report(request: ReferralReportRequest, ctx: TenantContext) -> ReferralReportResult:
    month = report_month(request.scheduled_time, ctx.config.time_zone)
    first, last = _month_days(month)
    clinics: dict[str, dict] = {}
    callers: dict[str, dict] = {}
    for clinic in ctx.config.clinics:
        counts = ctx.tables.daily_counts.period(clinic.clinic_id, first, last)
        days = {day.isoformat(): ctx.tables.daily_counts.day(clinic.clinic_id, day)
                for day in (first + timedelta(days=n) for n in range((last - first).days + 1))}
        trend = {day: counts["inactive"] for day, counts in days.items() if "inactive" in counts}  # nights counted
        recorded = list(trend.values())
        clinics[clinic.clinic_id] = {
            "name": clinic.name, "calls": call_figures(counts),
            "inactive_at_start": recorded[0] if recorded else None, "inactive_at_end": recorded[-1] if recorded else None,
            "inactive_now": ctx.tables.patients.count_inactive(clinic.clinic_id, last), "inactive_by_day": trend}
        for name in counts:
            if name.startswith("recall_calls@"):
                staff_id = name.split("@", 1)[1]
                callers.setdefault(staff_id, Counter())
        for staff_id in callers:
            callers[staff_id].update({k.split("@")[0]: v for k, v in counts.items() if k.endswith(f"@{staff_id}")})
    scores = _score_bands(ctx)
    campaigns = [reactivation.results(ctx, c.campaign_id) for c in ctx.tables.campaigns.all()
                 if c.created_at.date() <= last and c.goal_date >= first]  # the campaigns of the month
    staff = {m.staff_id: m.name for m in ctx.config.staff}
    summary = {"tenant_id": ctx.config.tenant_id, "chain": ctx.config.name, "month": month,
               "generated_at": f"{clock.now().astimezone(ZoneInfo(ctx.config.time_zone)):%Y-%m-%d %H:%M} "
                               f"({ctx.config.time_zone})",
               "calls": _chain_calls(clinics),
               "by_clinic": clinics,
               "by_caller": {staff_id: {"name": staff.get(staff_id, staff_id), **call_figures(counts)}
                             for staff_id, counts in sorted(callers.items())},
               "retention_scores": scores, "campaigns": campaigns}
    base = f"reports/management-monthly/{month}"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["clinic_id", "calls", "reached", "booked", "success_rate", "inactive_at_start", "inactive_at_end"])
    for clinic_id, figures in clinics.items():
        calls = figures["calls"]
        writer.writerow([clinic_id, calls["calls"], calls["reached"], calls["booked"], calls["success_rate"],
                         figures["inactive_at_start"], figures["inactive_at_end"]])
    html = render_report("management_monthly.html", summary=summary, clinics=ctx.config.clinics)
    outputs = {
        f"{base}.csv": (buffer.getvalue().encode("utf-8"), "text/csv; charset=utf-8"),
        f"{base}.json": (json.dumps(summary, ensure_ascii=False, indent=1).encode("utf-8"), "application/json"),
        f"{base}.html": (html.encode("utf-8"), "text/html; charset=utf-8"),
    }
    for key, (body, content_type) in outputs.items():
        ctx.reports.put(key, body, content_type)
    return ReferralReportResult(month=month, leads=0, report_keys=list(outputs))


def _chain_calls(clinics: dict[str, dict]) -> dict:
    total: Counter = Counter()
    for figures in clinics.values():
        total.update({"recall_calls": figures["calls"]["calls"], "recall_calls_reached": figures["calls"]["reached"],
                      "recall_calls_booked": figures["calls"]["booked"]})
    return call_figures(total)


def _score_bands(ctx: TenantContext) -> dict:
    """R25: the patients in recall now, per clinic, by score band (those with a history to score)."""
    bands: dict[str, Counter] = {}
    for clinic in ctx.config.clinics:
        counts: Counter = Counter()
        for cycle in ctx.tables.cycles.open_cycles(clinic.clinic_id):
            patient = ctx.tables.patients.get(cycle.patient_id)
            if patient.retention_score is not None:
                counts[next(label for low, high, label in SCORE_BANDS if low <= patient.retention_score <= high)] += 1
        bands[clinic.clinic_id] = {label: counts[label] for _, _, label in SCORE_BANDS}
    return bands
