"""The API Lambda's resolver. Routers by resource; errors become Problem bodies (404, 409, 422 naming the
field, 401/403 from the credential check). Personal data never goes to the logs."""

from __future__ import annotations

import contextlib
import json
from datetime import date, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ValidationError

from revisit import clock
from revisit.api.models import (
    Assignment,
    AvailabilityView,
    CallOutcome,
    Cancellation,
    ClaimMove,
    ConfirmationAnswer,
    ContactView,
    CycleView,
    GatewayMessage,
    InsuranceView,
    LeadCallOutcome,
    LeadTimeline,
    LeadView,
    Move,
    NewBooking,
    NewCampaign,
    NewOrder,
    NewPatient,
    NewPayment,
    NewVisit,
    Observation,
    PathId,
    PatientChanges,
    PatientHistory,
    PatientView,
    Problem,
    RecallScheduleEntry,
    SlotView,
    TaskDone,
    TimelineEntry,
    VisitView,
)
from revisit.api.self_booking import handle_self_booking, is_self_booking
from revisit.api.staff import staff
from revisit.api.unsubscribe import handle_unsubscribe, is_unsubscribe
from revisit.domain.insurance import most_recent_policy
from revisit.domain.leads import CallOutcome as LeadOutcome
from revisit.domain.recall_dates import history_problem, merge_history, recall_schedule
from revisit.errors import Conflict, InvalidRequest, NotFound, SlotTaken, TransientError
from revisit.models.common import Role
from revisit.models.entities import (
    Appointment,
    AppointmentStatus,
    Campaign,
    ConfirmationStatus,
    EligibilityResult,
    InsurancePolicy,
    Lead,
    Patient,
    Payment,
    RecallItem,
    StaffTask,
)
from revisit.services import booking, confirmation, intake, patient_actions, reactivation, referral, visit
from revisit.services.context import TenantContext
from revisit.services.patients import change_patient

"""Every id in a path: a bad one is a 422 naming it, never a lookup (DynamoDB refuses keys over 2,048 bytes)."""
JSON = "application/json"

def _problem(description: str) -> dict:
    return {"description": description, "content": {JSON: {"model": Problem}}}


def _gateway(description: str) -> dict:
    return {"description": description, "content": {JSON: {"model": GatewayMessage}}}


READ_ERRORS = {401: _gateway("No credential, or one we did not issue (the authorizer)"),
               403: _gateway("A revoked credential, or another tenant's"),
               404: _problem("No such patient, appointment, clinic or task"),
               422: _problem("A field is wrong: `field` names it"),
               429: _gateway("Over the integrator's rate"),
               503: _problem("Busy for a moment (throttled, or the record kept changing): retry")}
WRITE_ERRORS = READ_ERRORS | {409: _problem("The record changed or is in another state (a taken slot names starts_at)"),
                              415: _problem("The body is not application/json")}


def answers(errors: dict, **success: str) -> dict:
    """The responses of a route: its successes (status code as `_201="..."`; 200 by default, its body the
    route's return type) and the errors it can give."""
    return {int(code.lstrip("_")): {"description": text} for code, text in (success or {"_200": "OK"}).items()} | errors


API_TITLE = "Revisit booking API"
API_VERSION = "1.0.0"


def _context(router: APIGatewayRouter) -> TenantContext:
    """The tenant's context, appended by `handle` for each request (the resolver clears it afterwards)."""
    return router.context["tenant"]


def _integrator(app: APIGatewayRouter, *, clinic_id: str | None = None, patient_id: str | None = None,
                task_id: str | None = None) -> str:
    """The authorizer (on AWS, API Gateway's Lambda authorizer; offline, `revisit serve`) has checked the
    credential; the API still refuses a request that carries none, or another tenant's. A credential scoped to
    some clinics sees nothing of the others: their clinics, patients and tasks are not found (404)."""
    authorizer = (app.current_event.request_context.authorizer.raw_event or {}) if app.current_event.request_context else {}
    integrator, tenant = authorizer.get("integrator_id"), authorizer.get("tenant_id")
    if not integrator:
        raise ServiceError(401, "no authenticated integrator")
    ctx = _context(app)
    if tenant != ctx.config.tenant_id:
        raise ServiceError(403, "credential is for another tenant")
    scope = {c for c in (authorizer.get("clinics") or "").split(",") if c}
    if scope:
        if clinic_id is not None and clinic_id not in scope:
            raise NotFound("clinic", clinic_id)
        if patient_id is not None and ctx.tables.patients.get(patient_id).clinic_id not in scope:
            raise NotFound("patient", patient_id)
        if task_id is not None and ctx.tables.tasks.get(task_id).clinic_id not in scope:
            raise NotFound("task", task_id)
    return integrator


# --- patients ------------------------------------------------------------------------------------
patients = APIGatewayRouter()


@patients.post("/patients", summary="Register a patient", responses=answers(WRITE_ERRORS, _201="Created"))
def create_patient(body: NewPatient) -> Response[PatientView]:
    _integrator(patients, clinic_id=body.clinic_id)
    ctx = _context(patients)
    if body.clinic_id not in {c.clinic_id for c in ctx.config.clinics}:
        raise InvalidRequest("clinic_id", f"unknown clinic {body.clinic_id!r}")
    _check_history(ctx, body.model_dump())
    patient = Patient(**body.model_dump())
    ctx.tables.patients.create(patient)
    return Response(201, "application/json", _view(patient, ctx))


@patients.get("/patients/<patient_id>", summary="Read a patient", responses=answers(READ_ERRORS))
def read_patient(patient_id: PathId) -> PatientView:
    _integrator(patients, patient_id=patient_id)
    ctx = _context(patients)
    return _view(ctx.tables.patients.get(patient_id), ctx)


@patients.patch("/patients/<patient_id>", summary="Update contact details, consent and status", responses=answers(WRITE_ERRORS))
def update_patient(patient_id: PathId, body: PatientChanges) -> PatientView:
    _integrator(patients, patient_id=patient_id)
    ctx = _context(patients)
    patient = ctx.tables.patients.get(patient_id)
    changes = body.model_dump(exclude_unset=True)
    _check_history(ctx, changes)
    if changes.get("recalls") is not None:
        changes["recalls"] = [RecallItem(**item) for item in changes["recalls"]]
    if changes.get("recalls") is not None or changes.get("last_visit") is not None:
        return _view(change_patient(ctx, patient_id, lambda stored: merge_history(
            stored.model_copy(update={k: v for k, v in changes.items() if k not in ("recalls", "last_visit")}),
            changes.get("last_visit"), changes.get("recalls"))), ctx)
    if changes.get("phone", patient.phone) != patient.phone:
        changes["phone_invalid"] = False  # a new number may be tried again
    if changes.get("opted_out") is True and not patient.opted_out:
        patient_actions.opt_out(ctx, patient_id)
    return _view(change_patient(ctx, patient_id, lambda stored: stored.model_copy(update=changes)), ctx)


@patients.get("/patients/<patient_id>/history", summary="Recall cycles and the communication log (R24, X3)",
              responses=answers(READ_ERRORS))
def patient_history(patient_id: PathId) -> PatientHistory:
    _integrator(patients, patient_id=patient_id)
    ctx = _context(patients)
    ctx.tables.patients.get(patient_id)  # 404 for an unknown patient
    cycles = sorted(ctx.tables.cycles.for_patient(patient_id), key=lambda c: c.opened_at)
    contacts = sorted(ctx.tables.attempts.for_patient(patient_id), key=lambda a: a.at)
    return PatientHistory(
        patient_id=patient_id,
        cycles=[CycleView.model_validate(c.model_dump(include=set(CycleView.model_fields))) for c in cycles],
        contacts=[ContactView(ledger=a.cycle_id, step=a.step, channel=a.channel, outcome=a.outcome, at=a.at,
                              message_id=a.message_id, task_id=a.task_id, detail=a.detail) for a in contacts])


@patients.get("/patients/<patient_id>/insurance", summary="The primary policy and its latest verification (R17)", responses=answers(READ_ERRORS))
def read_insurance(patient_id: PathId) -> InsuranceView:
    _integrator(patients, patient_id=patient_id)
    patient = _context(patients).tables.patients.get(patient_id)
    return InsuranceView(primary=most_recent_policy(patient.insurance), latest_verification=patient.latest_eligibility)


@patients.put("/patients/<patient_id>/insurance/primary", summary="Record a policy; the most recent one is primary", responses=answers(WRITE_ERRORS))
def put_policy(patient_id: PathId, body: InsurancePolicy) -> InsuranceView:
    _integrator(patients, patient_id=patient_id)
    ctx = _context(patients)
    unknown = sorted(set(body.category_percent) - {c.category for c in ctx.config.billing.categories})
    if unknown:  # a typo would leave every real category at 0 %
        raise InvalidRequest("category_percent", f"unknown procedure categories {unknown}")
    patient = change_patient(ctx, patient_id, lambda stored: stored.model_copy(update={"insurance": [
        p for p in stored.insurance if (p.payer, p.member_id) != (body.payer, body.member_id)] + [body]}))
    return InsuranceView(primary=most_recent_policy(patient.insurance), latest_verification=patient.latest_eligibility)


@patients.post("/patients/<patient_id>/insurance/verification", summary="Verify the primary policy now (R17)", responses=answers(WRITE_ERRORS))
def verify_insurance(patient_id: PathId) -> EligibilityResult:
    _integrator(patients, patient_id=patient_id)
    return booking.verify_primary_insurance(_context(patients), patient_id)


def _check_history(ctx: TenantContext, fields: dict[str, Any]) -> None:
    """X4: recall types the tenant knows, each once, and no date in the future (any clinic's today)."""
    problem = history_problem(fields, {rt.recall_type for rt in ctx.config.recall_types},
                              clock.now().date() + timedelta(days=1))
    if problem is not None:
        raise InvalidRequest(*problem)


def _view(patient: Patient, ctx: TenantContext) -> PatientView:
    """The record, and (X2) each recall type's own due date and status."""
    view = PatientView.model_validate(patient.model_dump(include=set(PatientView.model_fields) - {"recall_schedule"}))
    in_cycle: list[str] = []
    if patient.recall_cycle_id:
        with contextlib.suppress(NotFound):
            cycle = ctx.tables.cycles.get(patient.patient_id, patient.recall_cycle_id)
            in_cycle = cycle.recall_types if cycle.status.is_open else []
    today = clock.now().astimezone(ZoneInfo(ctx.config.clinic(patient.clinic_id).time_zone)).date()
    schedule = recall_schedule(patient, {rt.recall_type: rt for rt in ctx.config.recall_types},
                               ctx.config.sweep.lead_days, today, in_cycle)
    return view.model_copy(update={"recall_schedule": [RecallScheduleEntry(**entry) for entry in schedule]})


# --- availability --------------------------------------------------------------------------------
availability = APIGatewayRouter()


@availability.get("/clinics/<clinic_id>/availability", summary="Free slots (R18)", responses=answers(READ_ERRORS))
def free_slots(
    clinic_id: PathId,
    appointment_type: Annotated[str, Query(min_length=1)],
    from_: Annotated[date, Query(alias="from")],
    to: Annotated[date, Query()],
    provider_id: Annotated[str | None, Query()] = None,
) -> AvailabilityView:
    _integrator(availability, clinic_id=clinic_id)
    found = booking.availability(_context(availability), clinic_id, appointment_type, from_, to, provider_id)
    return AvailabilityView(clinic_id=clinic_id, appointment_type=appointment_type,
                            slots=[SlotView(provider_id=s.provider_id, starts_at=s.starts_at, ends_at=s.ends_at)
                                   for s in found.slots])


# --- appointments --------------------------------------------------------------------------------
appointments = APIGatewayRouter()


@appointments.post("/appointments", summary="Book (R21); safe to retry with the same Idempotency-Key",
                   responses=answers(WRITE_ERRORS, _201="Booked", _200="Replay of an earlier booking"))
def book(body: NewBooking,
         idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=100)] = None,
         ) -> Response[Appointment]:
    integrator = _integrator(appointments, clinic_id=body.clinic_id)
    booked = booking.book(_context(appointments), booking.BookingRequest(**body.model_dump()), integrator, idempotency_key)
    return Response(200 if booked.replayed else 201, "application/json", booked.appointment)


@appointments.get("/patients/<patient_id>/appointments/<appointment_id>", summary="Read an appointment", responses=answers(READ_ERRORS))
def read_appointment(patient_id: PathId, appointment_id: PathId) -> Appointment:
    _integrator(appointments, patient_id=patient_id)
    return _context(appointments).tables.appointments.get(patient_id, appointment_id)


@appointments.post("/patients/<patient_id>/appointments/<appointment_id>/cancel", summary="Cancel", responses=answers(WRITE_ERRORS))
def cancel(patient_id: PathId, appointment_id: PathId, body: Cancellation) -> Appointment:
    _integrator(appointments, patient_id=patient_id)
    return booking.change_status(_context(appointments), patient_id, appointment_id, AppointmentStatus.CANCELLED, body.reason)


@appointments.post("/patients/<patient_id>/appointments/<appointment_id>/reschedule",
                   summary="Move to another time (and provider); reminders follow", responses=answers(WRITE_ERRORS))
def move(patient_id: PathId, appointment_id: PathId, body: Move) -> Appointment:
    _integrator(appointments, patient_id=patient_id)
    return booking.reschedule(_context(appointments), patient_id, appointment_id, body.starts_at, body.provider_id)


@appointments.post("/patients/<patient_id>/appointments/<appointment_id>/payments", summary="Record a payment",
                   responses=answers(WRITE_ERRORS, _201="Recorded"))
def pay(patient_id: PathId, appointment_id: PathId, body: NewPayment) -> Response[Payment]:
    _integrator(appointments, patient_id=patient_id)
    payment = booking.record_payment(_context(appointments), patient_id, appointment_id, **body.model_dump())
    return Response(201, "application/json", payment)


@appointments.post("/patients/<patient_id>/appointments/<appointment_id>/no-show", summary="Mark a no-show", responses=answers(WRITE_ERRORS))
def no_show(patient_id: PathId, appointment_id: PathId) -> Appointment:
    _integrator(appointments, patient_id=patient_id)
    return booking.change_status(_context(appointments), patient_id, appointment_id, AppointmentStatus.NO_SHOW)


@appointments.post("/patients/<patient_id>/appointments/<appointment_id>/complete", summary="Mark completed", responses=answers(WRITE_ERRORS))
def complete(patient_id: PathId, appointment_id: PathId) -> Appointment:
    _integrator(appointments, patient_id=patient_id)
    return booking.change_status(_context(appointments), patient_id, appointment_id, AppointmentStatus.COMPLETED)


@appointments.post("/patients/<patient_id>/appointments/<appointment_id>/confirmation",
                   summary="Record the patient's answer (X7): confirmed, declined, or back to unconfirmed",
                   responses=answers(WRITE_ERRORS))
def answer_confirmation(patient_id: PathId, appointment_id: PathId, body: ConfirmationAnswer) -> Appointment:
    _integrator(appointments, patient_id=patient_id)
    return confirmation.set_by_staff(_context(appointments), patient_id, appointment_id, ConfirmationStatus(body.status))


@appointments.get("/clinics/<clinic_id>/appointments/unconfirmed",
                  summary="A day's booked appointments not confirmed yet, by time (default: tomorrow, clinic time)",
                  responses=answers(READ_ERRORS))
def unconfirmed(clinic_id: PathId, day: Annotated[date | None, Query(alias="date")] = None) -> list[Appointment]:
    _integrator(appointments, clinic_id=clinic_id)
    ctx = _context(appointments)
    if clinic_id not in {c.clinic_id for c in ctx.config.clinics}:
        raise NotFound("clinic", clinic_id)
    return confirmation.not_confirmed_on(ctx, clinic_id, day or confirmation.tomorrow(ctx, clinic_id))


# --- staff tasks ---------------------------------------------------------------------------------
tasks = APIGatewayRouter()


@tasks.get("/clinics/<clinic_id>/tasks", summary="A role's open work queue, oldest due first", responses=answers(READ_ERRORS))
def work_queue(clinic_id: PathId, role: Annotated[Role, Query()] = Role.FRONT_DESK,
               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[StaffTask]:
    _integrator(tasks, clinic_id=clinic_id)
    ctx = _context(tasks)
    if clinic_id not in {c.clinic_id for c in ctx.config.clinics}:
        raise NotFound("clinic", clinic_id)
    # Due day (the clinic's) first; within a day, R25: the patients likeliest to book first (no score: 50).
    zone = ZoneInfo(ctx.config.clinic(clinic_id).time_zone)
    return sorted(ctx.tables.tasks.open_queue(clinic_id, role.value, limit), key=lambda task: (
        task.due_at.astimezone(zone).date(), -(task.retention_score if task.retention_score is not None else 50),
        task.due_at))


@tasks.post("/tasks/<task_id>/call-outcome", summary="Record a call's result and reason", responses=answers(WRITE_ERRORS))
def call_outcome(task_id: PathId, body: CallOutcome) -> StaffTask:
    _integrator(tasks, task_id=task_id)
    ctx = _context(tasks)
    if body.staff_id is not None:
        member = next((m for m in ctx.config.staff if m.staff_id == body.staff_id), None)
        if member is None or member.clinic_id not in (None, ctx.tables.tasks.get(task_id).clinic_id):
            raise InvalidRequest("staff_id", f"{body.staff_id!r} is not a staff member of the task's clinic")
    try:
        patient_actions.record_call_outcome(ctx, task_id, body.result, body.reason, body.staff_id)
    except ValueError as exc:
        raise InvalidRequest("reason", str(exc).split(": ", 1)[-1]) from None
    return ctx.tables.tasks.get(task_id)


# --- referral follow-up (F1-F11) -----------------------------------------------------------------
leads = APIGatewayRouter()


def _lead_view(lead: Lead) -> LeadView:
    return LeadView(**lead.model_dump(include=set(LeadView.model_fields) - {"execution_name"}),
                    execution_name=referral.execution_name(lead.lead_id))


def _lead(lead_id: str) -> Lead:
    """The lead, if the credential may see its clinic (404 otherwise, like a lead that does not exist)."""
    _integrator(leads)
    lead = _context(leads).tables.leads.get(lead_id)
    _integrator(leads, clinic_id=lead.clinic_id)
    return lead


def _known_clinic(clinic_id: str) -> None:
    _integrator(leads, clinic_id=clinic_id)
    if clinic_id not in {c.clinic_id for c in _context(leads).config.clinics}:
        raise NotFound("clinic", clinic_id)


@leads.post("/orders", summary="A doctor's order for a control procedure by a due date (F1): its lead (F2)",
            responses=answers(WRITE_ERRORS, _201="Lead created", _200="The same order again: its lead"))
def create_order(body: NewOrder) -> Response[LeadView]:
    ctx = _context(leads)
    _integrator(leads)
    try:  # a patient the credential may not see is as unknown as one that does not exist
        _integrator(leads, patient_id=body.patient_id)
    except NotFound:
        raise InvalidRequest("patient_id", f"unknown patient {body.patient_id!r}") from None
    lead, created = referral.create_order(ctx, order_id=body.order_id, patient_id=body.patient_id,
                                          procedure_id=body.procedure_id, ordered_by=body.ordered_by,
                                          due_date=body.due_date, notes=body.notes or "")
    return Response(201 if created else 200, JSON, _lead_view(lead))


@leads.get("/leads/<lead_id>", summary="A lead and its timeline: every change, who made it, when and why",
           responses=answers(READ_ERRORS))
def lead_timeline(lead_id: PathId) -> LeadTimeline:
    _lead(lead_id)
    lead, entries = _context(leads).tables.leads.timeline(lead_id)
    return LeadTimeline(lead=_lead_view(lead), timeline=[TimelineEntry(
        at=e.at, event=e.event.value, by=e.by, stage_before=e.stage_before.value, stage_after=e.stage_after.value,
        applied=e.applied, detail=e.detail) for e in entries])


@leads.post("/leads/<lead_id>/assignment", summary="Assign the registrar who calls (F4)", responses=answers(WRITE_ERRORS))
def assign_lead(lead_id: PathId, body: Assignment) -> LeadView:
    _lead(lead_id)
    return _lead_view(referral.assign(_context(leads), lead_id, body.registrar_id, body.assigned_by))


@leads.post("/leads/<lead_id>/call-outcome", summary="Record the call's outcome from the call script (F6, F8, F11)",
            responses=answers(WRITE_ERRORS))
def lead_call_outcome(lead_id: PathId, body: LeadCallOutcome) -> LeadView:
    _lead(lead_id)
    return _lead_view(referral.record_call(
        _context(leads), lead_id, outcome=LeadOutcome(body.outcome), by=body.registrar_id,
        refusal_reason=body.refusal_reason, appointment_id=body.appointment_id,
        wants_contact_later=body.wants_contact_later))


@leads.get("/clinics/<clinic_id>/leads", summary="A clinic's open leads in one stage, earliest due first "
           "(stage=new: the senior registrar's unassigned leads)", responses=answers(READ_ERRORS))
def open_leads(clinic_id: PathId, stage: Annotated[Literal["new", "assigned", "booked"], Query()] = "new",
               ) -> list[LeadView]:
    _known_clinic(clinic_id)
    return [_lead_view(lead) for lead in _context(leads).tables.leads.open_in_stage(clinic_id, stage)]


@leads.get("/clinics/<clinic_id>/leads/past-due", summary="Open leads whose due date has passed (clinic time)",
           responses=answers(READ_ERRORS))
def past_due_leads(clinic_id: PathId) -> list[LeadView]:
    _known_clinic(clinic_id)
    return [_lead_view(lead) for lead in referral.past_due(_context(leads), clinic_id)]


@leads.get("/registrars/<registrar_id>/calls", summary="A registrar's referral calls due by the end of a day "
           "(default: today at their clinic), earliest first (F5)", responses=answers(READ_ERRORS))
def registrar_calls(registrar_id: PathId, day: Annotated[date | None, Query(alias="date")] = None) -> list[StaffTask]:
    ctx = _context(leads)
    _integrator(leads)
    member = next((m for m in ctx.config.staff if m.staff_id == registrar_id), None)
    if member is not None and member.clinic_id is not None:
        _integrator(leads, clinic_id=member.clinic_id)
    return referral.calls_due(ctx, registrar_id, day)


# --- reactivation (A1-A8) ----------------------------------------------------------------------------
campaigns = APIGatewayRouter()


@campaigns.post("/campaigns", summary="Start a reactivation campaign over segments of the inactive patients (A5)",
                responses=answers(WRITE_ERRORS, _201="Started", _200="The same campaign again"))
def start_campaign(body: NewCampaign) -> Response[dict]:
    _integrator(campaigns)
    for clinic_id in body.clinics:
        _integrator(campaigns, clinic_id=clinic_id)
    campaign = Campaign(**body.model_dump(), created_at=clock.now())
    stored, created = reactivation.create_campaign(_context(campaigns), campaign)
    return Response(201 if created else 200, JSON, stored.model_dump(mode="json"))


@campaigns.get("/campaigns/<campaign_id>", summary="A campaign's results (A8): goal against recovered, responses "
               "by link, never reached, days to booking, per treatment", responses=answers(READ_ERRORS))
def campaign_results(campaign_id: PathId) -> dict:
    _integrator(campaigns)
    return reactivation.results(_context(campaigns), campaign_id)


@campaigns.post("/campaigns/<campaign_id>/patients/<patient_id>/observations",
                summary="Record what the team learnt of a contacted patient (A6)", responses=answers(WRITE_ERRORS))
def observe(campaign_id: PathId, patient_id: PathId, body: Observation) -> dict:
    _integrator(campaigns, patient_id=patient_id)
    member = reactivation.record_observation(_context(campaigns), campaign_id, patient_id, body.note, body.responded)
    return {"patient_id": patient_id, "outcome": member.outcome.value, "observations": len(member.observations)}


@campaigns.get("/clinics/<clinic_id>/inactive", summary="The clinic's inactive patients with their contact details "
               "(A1, A2), longest inactive first; format=csv for a spreadsheet", responses=answers(READ_ERRORS))
def inactive_patients(clinic_id: PathId, format: Annotated[Literal["json", "csv"], Query()] = "json",
                      limit: Annotated[int, Query(ge=1, le=1000)] = 500,
                      after: Annotated[str | None, Query(max_length=2000)] = None) -> Response[Any]:
    _integrator(campaigns, clinic_id=clinic_id)
    ctx = _context(campaigns)
    if clinic_id not in {c.clinic_id for c in ctx.config.clinics}:
        raise NotFound("clinic", clinic_id)
    listing = reactivation.inactive_list(ctx, clinic_id, limit, after)
    if format == "csv":
        return Response(200, "text/csv; charset=utf-8", reactivation.inactive_csv(listing["patients"]))
    return Response(200, JSON, listing)


@campaigns.get("/clinics/<clinic_id>/daily-list", summary="The administrator's day (A7): today's agenda, tomorrow's "
               "unconfirmed appointments, the reactivation calls due", responses=answers(READ_ERRORS))
def daily_list(clinic_id: PathId) -> dict:
    _integrator(campaigns, clinic_id=clinic_id)
    ctx = _context(campaigns)
    if clinic_id not in {c.clinic_id for c in ctx.config.clinics}:
        raise NotFound("clinic", clinic_id)
    return reactivation.daily_list(ctx, clinic_id)


# --- visit close-out and billing (I9-I17) ---------------------------------------------------------
visits = APIGatewayRouter()


def _visit_view(record) -> VisitView:
    return VisitView(**record.model_dump(include=set(VisitView.model_fields) - {"has_note"}), has_note=bool(record.note))


@visits.post("/patients/<patient_id>/appointments/<appointment_id>/visit",
             summary="Close a visit (I9): procedures performed and findings; prices, bills and plans it",
             responses=answers(WRITE_ERRORS, _201="Recorded; the close-out runs",
                               _200="Closed before: the first visit, unchanged"))
def close_visit(patient_id: PathId, appointment_id: PathId, body: NewVisit) -> Response[VisitView]:
    integrator = _integrator(visits, patient_id=patient_id)
    ctx = _context(visits)
    if body.recorded_by is not None and body.recorded_by not in {m.staff_id for m in ctx.config.staff}:
        raise InvalidRequest("recorded_by", f"{body.recorded_by!r} is not a staff member")
    record, created = visit.close_visit(ctx, patient_id, appointment_id, body.performed, body.findings,
                                        body.note or "", body.recorded_by or integrator)
    return Response(201 if created else 200, JSON, _visit_view(record))


@visits.get("/patients/<patient_id>/appointments/<appointment_id>/visit",
            summary="A visit's fees, the insurance and patient portions, its claim", responses=answers(READ_ERRORS))
def read_visit(patient_id: PathId, appointment_id: PathId) -> VisitView:
    _integrator(visits, patient_id=patient_id)
    return _visit_view(_context(visits).tables.visits.visit(patient_id, appointment_id))


@visits.get("/patients/<patient_id>/balance",
            summary="I17: what the patient owes, visit by visit, after coverage and payments", responses=answers(READ_ERRORS))
def patient_balance(patient_id: PathId) -> dict:
    _integrator(visits, patient_id=patient_id)
    return visit.balance(_context(visits), patient_id)


@visits.get("/patients/<patient_id>/treatment-plans", summary="I13: the patient's treatment plans",
            responses=answers(READ_ERRORS))
def treatment_plans(patient_id: PathId) -> list[dict]:
    _integrator(visits, patient_id=patient_id)
    return [p.model_dump(mode="json") for p in _context(visits).tables.visits.plans_for(patient_id)]


def _claim(claim_id: str):
    claim = _context(visits).tables.visits.claim(claim_id)
    _integrator(visits, patient_id=claim.patient_id)
    return claim


@visits.get("/claims/<claim_id>", summary="I10: a claim and its status history", responses=answers(READ_ERRORS))
def read_claim(claim_id: PathId) -> dict:
    return _claim(claim_id).model_dump(mode="json")


@visits.post("/claims/<claim_id>/status", summary="I10: move a claim forward (submitted, accepted, paid, denied)",
             responses=answers(WRITE_ERRORS))
def move_claim(claim_id: PathId, body: ClaimMove) -> dict:
    integrator = _integrator(visits)
    _claim(claim_id)
    return visit.move_claim(_context(visits), claim_id, body.status, body.by or integrator).model_dump(mode="json")


@visits.get("/clinics/<clinic_id>/intake", summary="I15: a day's new patients and their onboarding state",
            responses=answers(READ_ERRORS))
def intake_list(clinic_id: PathId, day: Annotated[date | None, Query(alias="date")] = None) -> list[dict]:
    _integrator(visits, clinic_id=clinic_id)
    ctx = _context(visits)
    if clinic_id not in {c.clinic_id for c in ctx.config.clinics}:
        raise NotFound("clinic", clinic_id)
    day = day or clock.now().astimezone(ZoneInfo(ctx.config.clinic(clinic_id).time_zone)).date()
    return [r.model_dump(mode="json") for r in ctx.tables.visits.intakes_on(clinic_id, day)]


@visits.post("/tasks/<task_id>/done", summary="A task done (onboarding, pre-visit, insurance check, next visit)",
             responses=answers(WRITE_ERRORS))
def task_done(task_id: PathId, body: TaskDone) -> StaffTask:
    _integrator(visits, task_id=task_id)
    return intake.complete_task(_context(visits), task_id, body.staff_id)


# --- the resolver --------------------------------------------------------------------------------
def build_resolver() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)

    @app.get("/health", summary="Liveness")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    for router in (patients, availability, appointments, tasks, leads, campaigns, visits, staff):
        app.include_router(router)

    def problem(status: int, error: str, field: str | None = None) -> Response:
        return Response(status, "application/json", {"status": status, "error": error, "field": field})

    @app.exception_handler(NotFound)
    def not_found(exc: NotFound) -> Response:
        return problem(404, str(exc))

    @app.exception_handler(SlotTaken)
    def slot_taken(exc: SlotTaken) -> Response:
        return problem(409, str(exc), "starts_at")

    @app.exception_handler(Conflict)
    def conflict(exc: Conflict) -> Response:
        return problem(409, str(exc))

    @app.exception_handler(InvalidRequest)
    def invalid(exc: InvalidRequest) -> Response:
        return problem(422, exc.message, exc.field)

    @app.exception_handler(ValidationError)
    def invalid_model(exc: ValidationError) -> Response:
        first = exc.errors()[0]
        return problem(422, first["msg"], ".".join(str(p) for p in first["loc"]))

    @app.exception_handler(RequestValidationError)
    def invalid_request(exc: RequestValidationError) -> Response:
        first = exc.errors()[0]
        location = [str(p) for p in first.get("loc", ())]
        field = ".".join(location[1:] if location and location[0] in ("body", "query", "path", "header") else location)
        return problem(422, first.get("msg", "invalid"), field or None)

    @app.exception_handler(TransientError)
    def busy(exc: TransientError) -> Response:
        return Response(503, JSON, {"status": 503, "error": "busy for a moment: retry", "field": None},
                        headers={"Retry-After": "1"})

    @app.exception_handler(ServiceError)
    def service_error(exc: ServiceError) -> Response:
        return problem(exc.status_code, exc.msg)

    return app


def openapi_document() -> str:
    return RESOLVER.get_openapi_json_schema(title=API_TITLE, version=API_VERSION)


def handle(event: dict[str, Any], context: Any, tenant: TenantContext) -> dict[str, Any]:
    if is_unsubscribe(event):
        return handle_unsubscribe(event, tenant)
    if is_self_booking(event):
        return handle_self_booking(event, tenant)
    refused = _unsupported_body(event)
    if refused is not None:
        return refused
    RESOLVER.append_context(tenant=tenant)
    answer = RESOLVER.resolve(event, context)
    if (event.get("path") or "").startswith("/staff/"):  # staff answers carry patients' data, errors included
        answer.setdefault("multiValueHeaders", {}).update({"Cache-Control": ["no-store"],
                                                           "X-Content-Type-Options": ["nosniff"]})
    return answer


def _unsupported_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """Only JSON bodies are read: anything else sent to a route that takes one is a 415 naming the header,
    before any parser sees it (a body sent with a GET is ignored)."""
    if event.get("httpMethod") not in ("POST", "PUT", "PATCH"):
        return None
    headers = event.get("headers") or {}
    names = [name for name in headers if name.lower() == "content-type"]
    if not names and not event.get("body"):
        return None
    media_type = (headers[names[0]] if names else "").split(";", 1)[0].strip().lower()
    if media_type == JSON:
        for name in names:  # the resolver compares the spelling exactly: give it the usual one
            headers[name] = JSON
        for name in [n for n in event.get("multiValueHeaders") or {} if n.lower() == "content-type"]:
            event["multiValueHeaders"][name] = [JSON]
        return None
    return {"statusCode": 415, "headers": {"Content-Type": JSON}, "isBase64Encoded": False, "body": json.dumps(
        {"status": 415, "error": f"only {JSON} request bodies are accepted", "field": "Content-Type"})}


RESOLVER = build_resolver()
