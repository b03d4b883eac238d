"""The staff console's API (issue 15), under /staff: on AWS behind API Gateway's Cognito user-pool authorizer
(the tenant's pool; offline the gateway checks the same ID token against moto's pool). The claims name the
staff member (user name = staff id) and their group (= role); services/staff_console.py decides what each role
and clinic sees. Bearer tokens, not cookies: a page of another site cannot make the browser send them, so
there is no cross-site request to forge. Not in the integrators' OpenAPI document."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from revisit import clock
from revisit.api.models import (
    CallOutcome,
    Cancellation,
    ConfirmationAnswer,
    LeadCall,
    Move,
    NewBooking,
    PathId,
    StaffBooking,
)
from revisit.domain.staff_access import View
from revisit.errors import InvalidRequest, NotAllowed, NotFound
from revisit.models.entities import AppointmentStatus, ConfirmationStatus, CycleStatus, TaskKind
from revisit.models.tenant import StaffMember
from revisit.services import booking, confirmation, staff_console
from revisit.services.context import TenantContext

router = APIGatewayRouter()
NO_STORE = {"Cache-Control": "no-store"}  # patients' data: never in a browser's or proxy's cache


def _context() -> TenantContext:
    return router.context["tenant"]


def _member() -> StaffMember:
    authorizer = (router.current_event.request_context.authorizer.raw_event or {}) \
        if router.current_event.request_context else {}
    claims = authorizer.get("claims") or {}
    username = claims.get("cognito:username")
    if not username:
        raise ServiceError(401, "no signed-in staff member")
    groups = claims.get("cognito:groups") or ""
    names = groups if isinstance(groups, list) else groups.strip("[]").replace(",", " ").split()
    try:
        return staff_console.staff_member(_context(), username, names)
    except NotAllowed as refused:
        raise ServiceError(403, str(refused)) from None


def _json_body() -> dict:
    try:
        found = router.current_event.json_body
    except ValueError:
        raise InvalidRequest("body", "is not JSON") from None
    if found is not None and not isinstance(found, dict):
        raise InvalidRequest("body", "is not a JSON object")
    return found or {}


def _answer(body: Any, status: int = 200) -> Response:
    return Response(status, "application/json", body, headers=NO_STORE)


def _allowed(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except NotAllowed as refused:
        raise ServiceError(403, str(refused)) from None


def member_language(member: StaffMember) -> str:
    """Staff read the console in the language of their clinic (the chain's own for chain-wide staff)."""
    ctx = _context()
    return ctx.config.clinic(member.clinic_id).language if member.clinic_id else ctx.config.default_language


@router.get("/staff/me", include_in_schema=False)
def me():
    member = _member()
    from revisit.domain.staff_access import VIEWS

    zones = {c.clinic_id: c.time_zone for c in _context().config.clinics}
    return _answer({"staff_id": member.staff_id, "name": member.name, "role": member.role.value,
                    "clinic_id": member.clinic_id, "clinics": staff_console.clinics_of(_context(), member),
                    "time_zones": {c: zones[c] for c in staff_console.clinics_of(_context(), member)},
                    "appointment_types": [t.appointment_type for t in _context().config.appointment_types],
                    "views": sorted(v.value for v in VIEWS[member.role]),
                    "refusal_reasons": _context().config.refusal_reasons,
                    "refusal_labels": {r: _context().config.refusal_label(r, member_language(member)) for r in
                                       _context().config.refusal_reasons}})


@router.get("/staff/clinics/<clinic_id>/queue", include_in_schema=False)
def queue(clinic_id: PathId, later: Annotated[bool, Query()] = False):
    """Today's work (due by the end of the clinic's day; `later=true` adds what is due after), each task with
    what the call needs: the patient's name, phone and language, what is due and how often they were reached."""
    ctx = _context()
    tasks = _allowed(staff_console.queue, ctx, _member(), clinic_id)
    zone = ZoneInfo(ctx.config.clinic(clinic_id).time_zone)
    today = clock.now().astimezone(zone).date()
    due_now = [t for t in tasks if t.due_at.astimezone(zone).date() <= today]
    shown = tasks if later else due_now
    return _answer({"clinic_id": clinic_id, "time_zone": str(zone), "later": len(tasks) - len(due_now),
                    "tasks": [_task_row(ctx, t) for t in shown]})


def _task_row(ctx: TenantContext, task) -> dict:
    row = task.model_dump(mode="json") | {
        "action": "call" if task.kind in staff_console.CALL_KINDS else
        "done" if task.kind in staff_console.DONE_KINDS else
        "assign" if task.kind == TaskKind.ASSIGN_LEAD else "lead-call" if task.kind == TaskKind.REFERRAL_CALL else "none"}
    if task.lead_id:
        with contextlib.suppress(NotFound):
            lead = ctx.tables.leads.get(task.lead_id)
            procedure = ctx.config.procedure(lead.procedure_id)
            row["lead"] = {"procedure": procedure.labels.get(ctx.config.default_language) or lead.procedure_id,
                           "due": lead.due_date.isoformat(), "stage": lead.stage.value, "calls_made": lead.calls_made,
                           "registrars": [{"staff_id": m.staff_id, "name": m.name}
                                          for m in staff_console.registrars_for(ctx, lead.clinic_id)]}
    if task.patient_id:
        with contextlib.suppress(NotFound):
            patient = ctx.tables.patients.get(task.patient_id)
            row["patient"] = {"name": f"{patient.first_name} {patient.last_name}", "phone": patient.phone,
                              "language": patient.language, "phone_invalid": patient.phone_invalid}
        if task.cycle_id:
            with contextlib.suppress(NotFound):
                cycle = ctx.tables.cycles.get(task.patient_id, task.cycle_id)
                row["recall"] = {"due": cycle.recall_due_date.isoformat(), "types": cycle.recall_types,
                                 "attempts": cycle.attempts, "status": cycle.status.value}
    return row


@router.post("/staff/tasks/<task_id>/call-outcome", include_in_schema=False)
def call_outcome(task_id: PathId, body: CallOutcome):
    ctx, member = _context(), _member()
    try:
        staff_console.record_call(ctx, member, task_id, body.result, body.reason)
    except ValueError as exc:
        raise InvalidRequest("reason", "a declined call needs one of the tenant's refusal reasons: "
                             + ", ".join(ctx.config.refusal_reasons)) from exc
    return _answer(ctx.tables.tasks.get(task_id).model_dump(mode="json"))


@router.post("/staff/tasks/<task_id>/done", include_in_schema=False)
def task_done(task_id: PathId):
    return _answer(staff_console.complete(_context(), _member(), task_id).model_dump(mode="json"))


@router.get("/staff/tasks/<task_id>/slots", include_in_schema=False)
def task_slots(task_id: PathId):
    """A call's 'booked' goes straight to the patient's free times (their clinic, the visit due)."""
    ctx = _context()
    kind, slots = staff_console.task_slots(ctx, _member(), task_id)
    names = {p.provider_id: p.name for p in ctx.config.providers}
    return _answer({"appointment_type": kind, "slots": [
        {"provider_id": s.provider_id, "provider_name": names.get(s.provider_id, s.provider_id),
         "starts_at": s.starts_at.isoformat()} for s in slots[:400]]})


@router.post("/staff/tasks/<task_id>/booking", include_in_schema=False)
def book_for_task(task_id: PathId):
    # Validated here rather than as a route parameter: the integrators' OpenAPI document keeps out staff models.
    body = StaffBooking.model_validate(_json_body())
    appointment = staff_console.book_for_task(_context(), _member(), task_id, body.provider_id, body.starts_at)
    return _answer(appointment.model_dump(mode="json"), 201)


@router.post("/staff/leads/<lead_id>/assignment", include_in_schema=False)
def assign_lead(lead_id: PathId):
    registrar = _json_body().get("registrar_id")
    if not isinstance(registrar, str) or not registrar:
        raise InvalidRequest("registrar_id", "name the registrar who calls")
    lead = _allowed(staff_console.assign_lead, _context(), _member(), lead_id, registrar)
    return _answer(lead.model_dump(mode="json", exclude={"notes"}))


@router.get("/staff/leads/<lead_id>/slots", include_in_schema=False)
def lead_slots(lead_id: PathId):
    ctx = _context()
    kind, slots = _allowed(staff_console.lead_slots, ctx, _member(), lead_id)
    names = {p.provider_id: p.name for p in ctx.config.providers}
    return _answer({"appointment_type": kind, "slots": [
        {"provider_id": s.provider_id, "provider_name": names.get(s.provider_id, s.provider_id),
         "starts_at": s.starts_at.isoformat()} for s in slots[:400]]})


@router.post("/staff/leads/<lead_id>/call-outcome", include_in_schema=False)
def lead_call(lead_id: PathId):
    body = LeadCall.model_validate(_json_body())
    lead = _allowed(staff_console.lead_call, _context(), _member(), lead_id, body.outcome,
                    refusal_reason=body.refusal_reason, wants_contact_later=body.wants_contact_later,
                    provider_id=body.provider_id, starts_at=body.starts_at)
    return _answer(lead.model_dump(mode="json", exclude={"notes"}))


@router.get("/staff/clinics/<clinic_id>/recalls", include_in_schema=False)
def recalls(clinic_id: PathId,
            recall_type: Annotated[str | None, Query(max_length=40)] = None,
            status: Annotated[CycleStatus | None, Query()] = None,
            rung: Annotated[int | None, Query(ge=0, le=20)] = None,
            min_days_overdue: Annotated[int | None, Query(ge=-3650, le=3650)] = None,
            format: Annotated[str, Query(pattern="^(json|csv)$")] = "json"):
    filters = staff_console.RecallFilters(recall_type, status, rung, min_days_overdue)
    rows = _allowed(staff_console.recall_list, _context(), _member(), clinic_id, filters)
    if format == "csv":
        day = clock.now().date().isoformat()
        return Response(200, "text/csv; charset=utf-8", staff_console.recall_csv(rows), headers=NO_STORE | {
            "Content-Disposition": f'attachment; filename="recalls-{clinic_id}-{day}.csv"'})
    return _answer([dataclasses.asdict(r) | {"recall_due_date": r.recall_due_date.isoformat()} for r in rows])


@router.get("/staff/patients/<patient_id>/timeline", include_in_schema=False)
def timeline(patient_id: PathId):
    found = _allowed(staff_console.timeline, _context(), _member(), patient_id)
    return _answer({
        "patient": found.patient.model_dump(mode="json", include={
            "patient_id", "clinic_id", "first_name", "last_name", "language", "phone", "email", "sms_consent",
            "email_consent", "opted_out", "unsubscribed", "status", "recall_status", "last_visit",
            "next_appointment_at"}),
        "appointments": [a.model_dump(mode="json") for a in found.appointments],
        "contacts": [c.model_dump(mode="json") for c in found.contacts],
        "cycles": [c.model_dump(mode="json") for c in found.cycles],
        "executions": [{"workflow": e.workflow, "name": e.name, "console_url": _console_url(e)}
                       for e in found.executions],
        "clinical": found.clinical,
        "tasks": [t.model_dump(mode="json") for t in found.tasks],
        "visits": [v.model_dump(mode="json") for v in found.visits],
        "treatment_plans": [p.model_dump(mode="json") for p in found.plans]})


@router.get("/staff/clinics/<clinic_id>/schedule", include_in_schema=False)
def schedule(clinic_id: PathId, day: Annotated[date | None, Query()] = None):
    ctx = _context()
    zone = ZoneInfo(ctx.config.clinic(clinic_id).time_zone) if clinic_id in {c.clinic_id for c in ctx.config.clinics} \
        else None
    if zone is None:
        raise NotFound("clinic", clinic_id)
    day = day or clock.now().astimezone(zone).date()  # the clinic's today, on the one clock
    found = _allowed(staff_console.schedule, ctx, _member(), clinic_id, day)
    return _answer({"clinic_id": clinic_id, "day": day.isoformat(), "time_zone": str(zone), "providers": [
        {"provider_id": p.provider_id, "name": p.name, "appointments": [a.model_dump(mode="json") for a in p.appointments]}
        for p in found]})


@router.post("/staff/patients/<patient_id>/appointments/<appointment_id>/<action>", include_in_schema=False)
def change_appointment(patient_id: PathId, appointment_id: PathId, action: PathId):
    """From the schedule: `confirmation` (the patient said so on the phone), `reschedule`, `cancel`."""
    ctx, member = _context(), _member()
    _allowed(staff_console.appointment_for, ctx, member, patient_id, appointment_id)
    body = _json_body()
    if action == "confirmation":
        answer = ConfirmationAnswer.model_validate(body)
        changed = confirmation.set_by_staff(ctx, patient_id, appointment_id, ConfirmationStatus(answer.status))
    elif action == "reschedule":
        moving = Move.model_validate(body)
        changed = booking.reschedule(ctx, patient_id, appointment_id, moving.starts_at, moving.provider_id)
    elif action == "cancel":
        cancelling = Cancellation.model_validate(body)
        changed = booking.change_status(ctx, patient_id, appointment_id, AppointmentStatus.CANCELLED,
                                        f"{cancelling.reason} (by {member.staff_id})" if cancelling.reason
                                        else f"by {member.staff_id}")
    else:
        raise NotFound("action", action)
    return _answer(changed.model_dump(mode="json"))


@router.post("/staff/appointments", include_in_schema=False)
def book_visit(idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=100)] = None):
    body = NewBooking.model_validate(_json_body())
    appointment = _allowed(staff_console.book_visit, _context(), _member(),
                           booking.BookingRequest(**body.model_dump()), idempotency_key)
    return _answer(appointment.model_dump(mode="json"), 201)


@router.get("/staff/clinics/<clinic_id>/availability", include_in_schema=False)
def free_times(clinic_id: PathId, appointment_type: Annotated[str, Query(min_length=1, max_length=40)],
               day: Annotated[date, Query()]):
    """Free times for moving an appointment: one day at a time, as the schedule shows days."""
    ctx, member = _context(), _member()
    _allowed(staff_console.require, member, View.SCHEDULE, clinic_id)
    found = booking.availability(ctx, clinic_id, appointment_type, day, day)
    return _answer([{"provider_id": s.provider_id, "starts_at": s.starts_at.isoformat()} for s in found.slots
                    if s.starts_at > clock.now()])


@router.get("/staff/reports", include_in_schema=False)
def reports():
    return _answer(_allowed(staff_console.report_keys, _context(), _member()))


@router.get("/staff/report", include_in_schema=False)
def report(key: Annotated[str, Query(min_length=9, max_length=200, pattern=r"^reports/[A-Za-z0-9/_.-]+$")]):
    """One report as the scheduled job wrote it (a self-contained HTML page), in the console's frame."""
    body, content_type = _allowed(staff_console.report, _context(), _member(), key)
    return Response(200, content_type, body.decode("utf-8"), headers=NO_STORE | {
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"})


@router.get("/staff/clinics/<clinic_id>/new-patients", include_in_schema=False)
def new_patients(clinic_id: PathId, day: Annotated[date | None, Query()] = None):
    ctx = _context()
    if clinic_id not in {c.clinic_id for c in ctx.config.clinics}:
        raise NotFound("clinic", clinic_id)
    zone = ZoneInfo(ctx.config.clinic(clinic_id).time_zone)
    day = day or clock.now().astimezone(zone).date()
    records = _allowed(staff_console.new_patients, ctx, _member(), clinic_id, day)
    rows = []
    for record in records:
        row = record.model_dump(mode="json")
        with contextlib.suppress(NotFound):
            patient = ctx.tables.patients.get(record.patient_id)
            row["name"] = f"{patient.first_name} {patient.last_name}"
        with contextlib.suppress(NotFound):
            row["onboarding"] = ctx.tables.tasks.get(record.onboarding_task_id).status.value
        rows.append(row)
    return _answer({"clinic_id": clinic_id, "day": day.isoformat(), "time_zone": str(zone), "patients": rows})


@router.get("/staff/campaigns", include_in_schema=False)
def campaigns():
    return _answer(_allowed(staff_console.campaigns, _context(), _member()))


@router.get("/staff/audit", include_in_schema=False)
def audit(day: Annotated[date | None, Query()] = None):
    day = day or clock.now().date()  # the one clock's day (offline, virtual time), not the browser's
    views = _allowed(staff_console.audit_day, _context(), _member(), day)
    return _answer({"day": day.isoformat(), "views": [v.model_dump(mode="json") for v in views]})


def _console_url(execution: staff_console.Execution) -> str | None:
    """The execution in the Step Functions console (its ARN from the stack's appointment machine's)."""
    import os

    from revisit.topology import APPOINTMENT, state_machine_environment, state_machine_name

    known = os.environ.get(state_machine_environment(APPOINTMENT.name), "")
    parts = known.split(":")
    if len(parts) < 7:
        return None
    region, account = parts[3], parts[4]
    machine = state_machine_name(_context().config.tenant_id, execution.workflow)
    arn = f"arn:aws:states:{region}:{account}:execution:{machine}:{execution.name}"
    return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{arn}"
