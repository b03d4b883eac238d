"""R25: the patient's retention score, from their history of keeping recall, stored on the patient and
refreshed whenever that history changes (a recall cycle ends, a recall visit is kept or missed)."""

from __future__ import annotations

from revisit.domain.reactivation import retention_score
from revisit.models.entities import AppointmentStatus, CycleStatus, Patient
from revisit.services.context import TenantContext

CYCLE_OUTCOMES = {CycleStatus.BOOKED: "booked", CycleStatus.DECLINED: "declined",
                  CycleStatus.UNANSWERED: "unanswered", CycleStatus.MANUAL_REVIEW: "unanswered"}


def history(ctx: TenantContext, patient_id: str) -> list[str]:
    """The outcomes in time order: how each closed recall cycle ended, and each recall visit missed or
    cancelled (a visit of a type that satisfies a recall)."""
    events = [(cycle.closed_at, CYCLE_OUTCOMES[cycle.status]) for cycle in ctx.tables.cycles.for_patient(patient_id)
              if cycle.closed_at is not None and cycle.status in CYCLE_OUTCOMES]
    recall_visits = {t.appointment_type for t in ctx.config.appointment_types if t.satisfies}
    events += [(a.updated_at or a.starts_at, "missed") for a in ctx.tables.appointments.for_patient(patient_id)
               if a.appointment_type in recall_visits
               and a.status in (AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED)]
    return [outcome for _, outcome in sorted(events, key=lambda event: event[0])]


def with_score(ctx: TenantContext, patient: Patient) -> Patient:
    """The patient with their score as of now (for a change that writes the patient anyway)."""
    return patient.model_copy(update={"retention_score": retention_score(history(ctx, patient.patient_id))})
