"""Names that ops read in the Step Functions console: ids and dates only, never personal data."""

from __future__ import annotations

from datetime import date


def recall_execution_name(patient_id: str, recall_due_date: date) -> str:
    """Deterministic per patient and cycle: Step Functions refuses a second execution of the same name,
    so a re-run sweep starts nothing twice."""
    return f"recall-{patient_id}-{recall_due_date:%Y%m%d}"


def sweep_execution_name(tenant_id: str, run_date: date, suffix: str = "") -> str:
    return f"sweep-{tenant_id}-{run_date:%Y%m%d}{'-' + suffix if suffix else ''}"


def recall_task_id(kind: str, patient_id: str, cycle_id: str) -> str:
    return f"{kind}-{patient_id}-{cycle_id}"


def delivery_check_task_id(patient_id: str, ledger_id: str, step: str, channel: str) -> str:
    """One check per interrupted send, whatever re-reads the claim."""
    return f"delivery-check-{patient_id}-{ledger_id}-{step}-{channel}"
