"""Names that ops read in the Step Functions console: ids and dates only, never personal data."""

from __future__ import annotations

import hashlib
from datetime import date


def recall_execution_name(patient_id: str, recall_due_date: date) -> str:
    """Deterministic per patient and cycle: Step Functions refuses a second execution of the same name,
    so a re-run sweep starts nothing twice."""
    return f"recall-{patient_id}-{recall_due_date:%Y%m%d}"


def sweep_execution_name(tenant_id: str, run_date: date, suffix: str = "") -> str:
    return f"sweep-{tenant_id}-{run_date:%Y%m%d}{'-' + suffix if suffix else ''}"


def sweep_page_execution_name(clinic_id: str, run_date: date, page: int, run_id: str) -> str:
    """One page of one clinic's sweep; the run id (from the sweep's own name) keeps a re-run's pages apart."""
    return f"sweep-{clinic_id}-{run_date:%Y%m%d}-p{page}-{run_id}"


def sweep_run_id(sweep_execution_name: str) -> str:
    return hashlib.sha256(sweep_execution_name.encode()).hexdigest()[:8]


def recall_task_id(kind: str, patient_id: str, cycle_id: str) -> str:
    return f"{kind}-{patient_id}-{cycle_id}"


def delivery_check_task_id(patient_id: str, ledger_id: str, step: str, channel: str) -> str:
    """One check per interrupted send, whatever re-reads the claim."""
    return f"delivery-check-{patient_id}-{ledger_id}-{step}-{channel}"


def pre_visit_task_id(appointment_id: str) -> str:
    """I6: the hygienist's preparation of a new patient's first visit (closed when the visit happens or not)."""
    return f"pre-visit-{appointment_id}"
