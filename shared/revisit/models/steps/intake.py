"""Intake (one execution per new patient) and visit close-out (one per appointment)."""

from datetime import date
from typing import Literal

from pydantic import AwareDatetime

from revisit.models.common import Identifier
from revisit.models.steps import StepModel, StepRequest


class IntakeRef(StepRequest):
    patient_id: Identifier
    appointment_id: str


class IntakeResult(StepModel):
    clinic_id: Identifier
    day: date
    """The clinic's local day of the first booking (the intake record's partition)."""
    missing: int
    """I1: core data fields missing or implausible (the onboarding task lists them)."""
    insured: bool
    """A policy is on file: the coverage is verified (I16)."""
    pre_visit_task: bool


class CoverageRequest(StepRequest):
    patient_id: Identifier
    appointment_id: str
    clinic_id: Identifier
    day: date


class CoverageResult(StepModel):
    coverage: Literal["active", "inactive", "unknown"]
    task: bool
    """Not active: the office checks the insurance before billing (an insurance_check task)."""


class VisitRef(StepRequest):
    patient_id: Identifier
    appointment_id: str


class VisitPriced(StepModel):
    currency: str
    total: str
    """Decimal as text: money never travels as a float."""
    lines: int
    findings: int


class VisitBilled(StepModel):
    coverage: Literal["active", "inactive", "unknown", "none"]
    claim_id: str | None = None
    insurance_portion: str
    patient_portion: str


class VisitPlanned(StepModel):
    plan_items: int
    next_visit_task: bool


class IntakeReportRequest(StepRequest):
    scheduled_time: AwareDatetime
    """The schedule's firing time: the report covers the day before it, in each clinic's zone."""


class IntakeReportResult(StepModel):
    day: date
    patients: int
    report_keys: list[str]
