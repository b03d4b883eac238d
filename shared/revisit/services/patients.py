"""Changing a patient's record without losing a concurrent change (a PATCH beside a STOP, a booking beside
a recall step): read, change, write on condition that nothing wrote it since, else again."""

from __future__ import annotations

from collections.abc import Callable

from revisit.errors import Conflict, TransientError
from revisit.models.entities import Patient
from revisit.services.context import TenantContext

TRIES = 5


def change_patient(ctx: TenantContext, patient_id: str, change: Callable[[Patient], Patient]) -> Patient:
    """`change` gets the record as stored and returns it changed (the same record if there is nothing to do).
    It may run more than once: it must only compute."""
    for _ in range(TRIES):
        patient = ctx.tables.patients.get(patient_id)
        changed = Patient.model_validate(change(patient).model_dump())
        if changed == patient:
            return patient
        try:
            return ctx.tables.patients.update(changed)
        except Conflict:
            continue  # written meanwhile: apply the change to the newer record
    raise TransientError(f"patient {patient_id} kept changing while it was being updated")
