"""Appointments: book, read, cancel, move, pay, no-show, complete, confirm."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from revisit.api.models import (
    Cancellation,
    ConfirmationAnswer,
    Move,
    NewBooking,
    NewPayment,
    PathId,
)
from revisit.api.routing import READ_ERRORS, WRITE_ERRORS, answers, integrator_of, tenant_of
from revisit.errors import NotFound
from revisit.models.entities import (
    Appointment,
    AppointmentStatus,
    ConfirmationStatus,
    Payment,
)
from revisit.services import booking, confirmation

router = APIGatewayRouter()


@router.post("/appointments", summary="Book (R21); safe to retry with the same Idempotency-Key",
                   responses=answers(WRITE_ERRORS, _201="Booked", _200="Replay of an earlier booking"))
def book(body: NewBooking,
         idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=100)] = None,
         ) -> Response[Appointment]:
    integrator = integrator_of(router, clinic_id=body.clinic_id)
    booked = booking.book(tenant_of(router), booking.BookingRequest(**body.model_dump()), integrator, idempotency_key)
    return Response(200 if booked.replayed else 201, "application/json", booked.appointment)


@router.get("/patients/<patient_id>/appointments/<appointment_id>", summary="Read an appointment", responses=answers(READ_ERRORS))
def read_appointment(patient_id: PathId, appointment_id: PathId) -> Appointment:
    integrator_of(router, patient_id=patient_id)
    return tenant_of(router).tables.appointments.get(patient_id, appointment_id)


@router.post("/patients/<patient_id>/appointments/<appointment_id>/cancel", summary="Cancel", responses=answers(WRITE_ERRORS))
def cancel(patient_id: PathId, appointment_id: PathId, body: Cancellation) -> Appointment:
    integrator_of(router, patient_id=patient_id)
    return booking.change_status(tenant_of(router), patient_id, appointment_id, AppointmentStatus.CANCELLED, body.reason)


@router.post("/patients/<patient_id>/appointments/<appointment_id>/reschedule",
                   summary="Move to another time (and provider); reminders follow", responses=answers(WRITE_ERRORS))
def move(patient_id: PathId, appointment_id: PathId, body: Move) -> Appointment:
    integrator_of(router, patient_id=patient_id)
    return booking.reschedule(tenant_of(router), patient_id, appointment_id, body.starts_at, body.provider_id)


@router.post("/patients/<patient_id>/appointments/<appointment_id>/payments", summary="Record a payment",
                   responses=answers(WRITE_ERRORS, _201="Recorded"))
def pay(patient_id: PathId, appointment_id: PathId, body: NewPayment) -> Response[Payment]:
    integrator_of(router, patient_id=patient_id)
    payment = booking.record_payment(tenant_of(router), patient_id, appointment_id, **body.model_dump())
    return Response(201, "application/json", payment)


@router.post("/patients/<patient_id>/appointments/<appointment_id>/no-show", summary="Mark a no-show", responses=answers(WRITE_ERRORS))
def no_show(patient_id: PathId, appointment_id: PathId) -> Appointment:
    integrator_of(router, patient_id=patient_id)
    return booking.change_status(tenant_of(router), patient_id, appointment_id, AppointmentStatus.NO_SHOW)


@router.post("/patients/<patient_id>/appointments/<appointment_id>/complete", summary="Mark completed", responses=answers(WRITE_ERRORS))
def complete(patient_id: PathId, appointment_id: PathId) -> Appointment:
    integrator_of(router, patient_id=patient_id)
    return booking.change_status(tenant_of(router), patient_id, appointment_id, AppointmentStatus.COMPLETED)


@router.post("/patients/<patient_id>/appointments/<appointment_id>/confirmation",
                   summary="Record the patient's answer (X7): confirmed, declined, or back to unconfirmed",
                   responses=answers(WRITE_ERRORS))
def answer_confirmation(patient_id: PathId, appointment_id: PathId, body: ConfirmationAnswer) -> Appointment:
    integrator_of(router, patient_id=patient_id)
    return confirmation.set_by_staff(tenant_of(router), patient_id, appointment_id, ConfirmationStatus(body.status))


@router.get("/clinics/<clinic_id>/appointments/unconfirmed",
                  summary="A day's booked appointments not confirmed yet, by time (default: tomorrow, clinic time)",
                  responses=answers(READ_ERRORS))
def unconfirmed(clinic_id: PathId, day: Annotated[date | None, Query(alias="date")] = None) -> list[Appointment]:
    integrator_of(router, clinic_id=clinic_id)
    ctx = tenant_of(router)
    if clinic_id not in {c.clinic_id for c in ctx.config.clinics}:
        raise NotFound("clinic", clinic_id)
    return confirmation.not_confirmed_on(ctx, clinic_id, day or confirmation.tomorrow(ctx, clinic_id))
