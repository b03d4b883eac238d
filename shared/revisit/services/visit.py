"""Visit close-out (I9-I14, I16, I17): what the clinic did at a visit, what it costs, who pays, what next.

The API records the visit (I9) once per appointment, marks the appointment completed (which moves the
patient's recall forward, X1) and starts the close-out, named by the appointment; the execution carries ids
only (the clinical note stays in the table). Its steps: price the procedures from the clinic's fee
schedule (I11, I12); verify the coverage and split the total (I16, I17), drafting the claim (I10); draft
the treatment plan from the findings and give the hygienist the task to book it (I13, I14).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from revisit import clock
from revisit.domain.billing import ZERO, ClaimStatus, Coverage, FeeLine, claim_move_error, split
from revisit.domain.insurance import most_recent_policy
from revisit.domain.intake import draft_plan
from revisit.errors import Conflict, InvalidRequest, NotFound
from revisit.models.common import Role
from revisit.models.entities import (
    AppointmentStatus,
    BilledVisit,
    Claim,
    ClaimChange,
    CoverageStatus,
    EligibilityResult,
    Finding,
    PatientStatus,
    PerformedProcedure,
    PlanItem,
    StaffTask,
    TaskKind,
    TaskPriority,
    TreatmentPlan,
    Visit,
    VisitLine,
    VisitStage,
)
from revisit.models.steps.intake import VisitBilled, VisitPlanned, VisitPriced, VisitRef
from revisit.services.context import TenantContext
from revisit.services.intake import moved_status
from revisit.services.patients import change_patient
from revisit.topology import VISIT

NOT_VISITED = (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)


def execution_name(appointment_id: str) -> str:
    return f"visit-{appointment_id}"


def claim_id_for(appointment_id: str) -> str:
    return f"cl-{appointment_id}"


def close_visit(ctx: TenantContext, patient_id: str, appointment_id: str, performed: list[PerformedProcedure],
                findings: list[Finding], note: str, recorded_by: str) -> tuple[Visit, bool]:
    """I9: the visit recorded, the appointment completed, the close-out started. A second call for the same
    appointment returns the first visit unchanged (False); everything is checked before anything is written."""
    appointment = ctx.tables.appointments.get(patient_id, appointment_id)
    try:
        return ctx.tables.visits.visit(patient_id, appointment_id), False
    except NotFound:  # not closed yet
        pass
    if appointment.status in NOT_VISITED:
        raise InvalidRequest("appointment_id", f"appointment {appointment_id} is {appointment.status.value}: "
                                               "there was no visit to close")
    if clock.now() < appointment.starts_at:
        raise InvalidRequest("appointment_id", f"appointment {appointment_id} starts at "
                                               f"{appointment.starts_at.isoformat()}: it cannot be closed before")
    billing = ctx.config.billing
    if billing.schedule_for(appointment.clinic_id) is None:
        raise InvalidRequest("performed", f"clinic {appointment.clinic_id} has no fee schedule")
    for index, procedure in enumerate(performed):
        if billing.service(procedure.code) is None:
            raise InvalidRequest(f"performed[{index}].code", f"unknown service code {procedure.code!r}")
    for index, finding in enumerate(findings):
        if finding.finding not in billing.plan_for:
            raise InvalidRequest(f"findings[{index}].finding", f"unknown finding {finding.finding!r} "
                                 f"(known: {', '.join(sorted(billing.plan_for))})")
    visit = Visit(appointment_id=appointment_id, patient_id=patient_id, clinic_id=appointment.clinic_id,
                  provider_id=appointment.provider_id, performed=performed, findings=findings, note=note,
                  recorded_at=clock.now(), recorded_by=recorded_by, execution_name=execution_name(appointment_id))
    earlier = ctx.tables.visits.record_visit(visit)
    if earlier is not None:  # a concurrent call recorded it first
        return earlier, False
    if appointment.status == AppointmentStatus.BOOKED:  # X1: the recall due dates move forward
        # Only the API closes visits: the visit workflow's functions (price, bill, plan) do not import the
        # booking service and the recall ladder behind it at their cold start (issue 14).
        from revisit.services import booking

        booking.change_status(ctx, patient_id, appointment_id, AppointmentStatus.COMPLETED)
    if ctx.workflows is not None:
        ctx.workflows.start(VISIT.name, visit.execution_name, {"patient_id": patient_id, "appointment_id": appointment_id})
    ctx.metrics.count("VisitRecorded")
    return visit, True


def price_visit(request: VisitRef, ctx: TenantContext) -> VisitPriced:
    """I11, I12: each procedure's code and fee from the clinic's schedule, and the total."""
    visit = ctx.tables.visits.visit(request.patient_id, request.appointment_id)
    schedule = ctx.config.billing.schedule_for(visit.clinic_id)
    lines = [VisitLine(code=p.code, category=ctx.config.billing.service(p.code).category, tooth=p.tooth,
                       fee=schedule.fees[p.code], patient=schedule.fees[p.code]) for p in visit.performed]
    total = sum((line.fee for line in lines), ZERO)
    if visit.stage == VisitStage.RECORDED:
        ctx.tables.visits.save_visit(visit.model_copy(update={
            "stage": VisitStage.PRICED, "currency": schedule.currency, "lines": lines, "total": total}))
    return VisitPriced(currency=schedule.currency, total=str(total), lines=len(lines), findings=len(visit.findings))


def coverage_of(ctx: TenantContext, result: EligibilityResult, patient_id: str, year: int) -> Coverage | None:
    """What the plan pays this visit. A stored policy's deductible and maximum are the year's: what this
    year's claims in Revisit used is taken off (a clearinghouse answers with what remains)."""
    if result.status != CoverageStatus.ACTIVE:
        return None
    categories = ctx.config.billing.categories
    percent = result.category_percent or {c.category: result.coverage_percent or 0 for c in categories}
    deductible, maximum = result.deductible_remaining or ZERO, result.maximum_remaining
    if result.source == "stored-coverage":
        used = [c for c in ctx.tables.visits.claims_for(patient_id)
                if c.benefit_year == year and c.status != "denied" and c.payer == result.payer]
        deductible = max(deductible - sum((c.deductible for c in used), ZERO), ZERO)
        if maximum is not None:
            maximum = max(maximum - sum((c.amount for c in used), ZERO), ZERO)
    return Coverage(percent_by_category=percent, deductible_remaining=deductible, maximum_remaining=maximum,
                    deductible_exempt=frozenset(c.category for c in categories if not c.deductible_applies))


def bill_visit(request: VisitRef, ctx: TenantContext) -> VisitBilled:
    """I16, I17, I10: coverage verified for the visit's date, the total split, the claim drafted. A retried
    step finds the visit billed and answers the same."""
    visit = ctx.tables.visits.visit(request.patient_id, request.appointment_id)
    if visit.stage in (VisitStage.BILLED, VisitStage.CLOSED):
        return _billed(visit)
    patient = ctx.tables.patients.get(request.patient_id)
    appointment = ctx.tables.appointments.get(request.patient_id, request.appointment_id)
    service_day = appointment.starts_at.astimezone(ZoneInfo(ctx.config.clinic(visit.clinic_id).time_zone)).date()
    policy = most_recent_policy(patient.insurance)
    result = ctx.eligibility.verify(patient, policy, service_day) if policy else None
    coverage = coverage_of(ctx, result, patient.patient_id, service_day.year) if result else None
    bill = split([FeeLine(code=line.code, category=line.category, fee=line.fee, tooth=line.tooth) for line in visit.lines],
                 coverage)
    lines = [line.model_copy(update={"deductible": s.deductible, "insurance": s.insurance, "patient": s.patient})
             for line, s in zip(visit.lines, bill.lines, strict=True)]
    claim_id = None
    if policy is not None and coverage is not None and (bill.insurance > 0 or bill.deductible > 0):
        # a visit paid from the deductible alone is claimed too: the payer counts it, and so does next visit's split
        claim_id = claim_id_for(visit.appointment_id)
        claim = Claim(claim_id=claim_id, patient_id=visit.patient_id, appointment_id=visit.appointment_id,
                      clinic_id=visit.clinic_id, payer=policy.payer, member_id=policy.member_id,
                      currency=visit.currency, amount=bill.insurance, deductible=bill.deductible,
                      benefit_year=service_day.year,
                      history=[ClaimChange(at=clock.now(), before=None, after="draft", by="workflow")])
        if ctx.tables.visits.create_claim(claim):
            _publish_claim(ctx, claim)
    if result is not None:
        change_patient(ctx, patient.patient_id, lambda p: p.model_copy(update={"latest_eligibility": result}))
        if result.status != CoverageStatus.ACTIVE:  # billed as uninsured until the office checks
            ctx.tables.tasks.create(StaffTask(
                task_id=f"insurance-check-{visit.appointment_id}", kind=TaskKind.INSURANCE_CHECK,
                role=Role.OFFICE_ADMIN, clinic_id=visit.clinic_id, priority=TaskPriority.NORMAL,
                patient_id=visit.patient_id,
                title=(f"Check the insurance of patient {visit.patient_id} for the visit of {service_day}: "
                       f"coverage {result.status.value}" + (f" ({result.detail})" if result.detail else "")),
                due_at=clock.now(), created_at=clock.now()))
    billed = visit.model_copy(update={
        "stage": VisitStage.CLOSED if not visit.findings else VisitStage.BILLED, "lines": lines,
        "insurance_portion": bill.insurance, "patient_portion": bill.patient, "claim_id": claim_id,
        "coverage": result.status if result else None})
    ctx.tables.visits.save_visit(billed)
    ctx.tables.visits.record_billed(BilledVisit(
        appointment_id=visit.appointment_id, patient_id=visit.patient_id, clinic_id=visit.clinic_id,
        day=clock.now().astimezone(ZoneInfo(ctx.config.clinic(visit.clinic_id).time_zone)).date(),  # billed today
        currency=visit.currency, total=bill.total, insurance_portion=bill.insurance,
        patient_portion=bill.patient, coverage=billed.coverage.value if billed.coverage else "none", claim_id=claim_id))
    ctx.metrics.count("VisitBilled")
    return _billed(billed)


def _billed(visit: Visit) -> VisitBilled:
    return VisitBilled(coverage=visit.coverage.value if visit.coverage else "none", claim_id=visit.claim_id,
                       insurance_portion=str(visit.insurance_portion), patient_portion=str(visit.patient_portion))


def plan_next_visit(request: VisitRef, ctx: TenantContext) -> VisitPlanned:
    """I13, I14: the draft treatment plan from the findings, and the hygienist's task to book it."""
    visit = ctx.tables.visits.visit(request.patient_id, request.appointment_id)
    billing = ctx.config.billing
    items = draft_plan([(f.finding, f.tooth) for f in visit.findings], billing.plan_for,
                       {(p.code, p.tooth) for p in visit.performed})
    schedule = billing.schedule_for(visit.clinic_id)
    task_id = None
    if items:
        plan = TreatmentPlan(
            plan_id=f"tp-{visit.appointment_id}", patient_id=visit.patient_id, clinic_id=visit.clinic_id,
            appointment_id=visit.appointment_id, currency=schedule.currency, created_at=clock.now(),
            items=[PlanItem(finding=i.finding, code=i.code, tooth=i.tooth, fee=schedule.fees[i.code]) for i in items],
            estimate=sum((schedule.fees[i.code] for i in items), ZERO))
        ctx.tables.visits.create_plan(plan)
        treatments = [r.treatment for r in billing.findings
                      if r.treatment and r.finding in {f.finding for f in visit.findings}]
        change_patient(ctx, visit.patient_id, lambda p: moved_status(p, PatientStatus.FOLLOW_UP, "treatment planned")
                       .model_copy(update={"planned_treatment": True,
                                           **({"treatment": treatments[0]} if treatments else {})}))
        zone = ZoneInfo(ctx.config.clinic(visit.clinic_id).time_zone)
        due_day = clock.now().astimezone(zone).date() + timedelta(days=ctx.config.intake.next_visit_days)
        task_id = f"next-visit-{visit.appointment_id}"
        ctx.tables.tasks.create(StaffTask(
            task_id=task_id, kind=TaskKind.NEXT_VISIT, role=Role.HYGIENIST, clinic_id=visit.clinic_id,
            priority=TaskPriority.NORMAL, patient_id=visit.patient_id,
            title=(f"Book the planned treatment of patient {visit.patient_id}: {len(items)} procedure(s), "
                   f"plan {plan.plan_id}"),
            due_at=datetime.combine(due_day, time(9, 0), zone), created_at=clock.now()))
    if visit.stage != VisitStage.CLOSED:
        ctx.tables.visits.save_visit(visit.model_copy(update={
            "stage": VisitStage.CLOSED, "plan_items": len(items), "next_visit_task_id": task_id}))
    return VisitPlanned(plan_items=len(items), next_visit_task=task_id is not None)


def _publish_claim(ctx: TenantContext, claim: Claim) -> None:
    if ctx.events is not None:  # ids, status and amount: integrations (the practice's billing) follow claims
        ctx.events.publish("ClaimStatusChanged", {
            "tenant_id": ctx.config.tenant_id, "claim_id": claim.claim_id, "patient_id": claim.patient_id,
            "appointment_id": claim.appointment_id, "clinic_id": claim.clinic_id, "status": claim.status,
            "previous_status": claim.history[-2].after if len(claim.history) > 1 else None,
            "amount": str(claim.amount), "currency": claim.currency})


def move_claim(ctx: TenantContext, claim_id: str, status: str, by: str) -> Claim:
    """I10: the billing office or the payer moves a claim forward; backwards or from a final status is
    refused naming `status`. The same move twice is answered with the claim as it is."""
    target = ClaimStatus(status)
    for _ in range(3):
        claim = ctx.tables.visits.claim(claim_id)
        current = ClaimStatus(claim.status)
        if current == target:
            return claim
        error = claim_move_error(current, target)
        if error:
            raise InvalidRequest("status", error)
        changed = claim.model_copy(update={
            "status": target.value, "version": claim.version + 1,
            "history": [*claim.history, ClaimChange(at=clock.now(), before=current.value, after=target.value, by=by)]})
        if ctx.tables.visits.change_claim(claim, changed):
            _publish_claim(ctx, changed)
            return changed
    raise Conflict(f"claim {claim_id} kept changing")


def balance(ctx: TenantContext, patient_id: str) -> dict:
    """I17: what the patient owes, visit by visit: their portion, plus the insurance portion of a denied claim,
    less what they paid (payments by card, cash or transfer against the appointment)."""
    ctx.tables.patients.get(patient_id)
    claims = {c.appointment_id: c for c in ctx.tables.visits.claims_for(patient_id)}
    paid_by_appointment = ctx.tables.appointments.payments_for(patient_id)
    visits, due_by_currency = [], {}
    for visit in ctx.tables.visits.visits_for(patient_id):
        if visit.patient_portion is None:
            continue
        claim = claims.get(visit.appointment_id)
        owed = visit.patient_portion + (claim.amount if claim and claim.status == "denied" else ZERO)
        paid = sum((p.amount for p in paid_by_appointment.get(visit.appointment_id, [])
                    if p.method != "insurance" and p.currency == visit.currency), ZERO)
        due = max(owed - paid, ZERO)
        due_by_currency[visit.currency] = due_by_currency.get(visit.currency, ZERO) + due
        visits.append({"appointment_id": visit.appointment_id, "currency": visit.currency, "total": str(visit.total),
                       "insurance_portion": str(visit.insurance_portion), "patient_portion": str(visit.patient_portion),
                       "claim_id": visit.claim_id, "claim_status": claim.status if claim else None,
                       "paid": str(paid), "due": str(due)})
    return {"patient_id": patient_id, "visits": visits,
            "due": [{"currency": currency, "amount": str(amount)} for currency, amount in sorted(due_by_currency.items())]}
