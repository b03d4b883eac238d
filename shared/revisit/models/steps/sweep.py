"""The nightly sweep, and the daily reports and alerts it schedules."""

from datetime import date

from pydantic import AwareDatetime, ConfigDict

from revisit.models.common import Identifier
from revisit.models.steps import StepModel, StepRequest


class SweepInput(StepModel):
    """What starts a sweep: the schedule passes its scheduled time; a person may pass a run date."""

    model_config = ConfigDict(extra="ignore", defer_build=True)
    run_date: date | None = None
    scheduled_time: AwareDatetime | None = None


class PlanSweepRequest(StepRequest):
    input: SweepInput


class ClinicSweep(StepModel):
    """One page of one clinic's due patients: what a SweepClinic execution is started with."""

    clinic_id: Identifier
    run_date: date
    horizon_date: date
    run_id: str
    page: int = 1
    page_token: str | None = None
    execution_name: str
    """This page's execution: sweep-<clinic>-<run date>-p<page>-<run id>."""


class PlanSweepResult(StepModel):
    run_date: date
    horizon_date: date
    clinics: list[ClinicSweep]


class SelectDueRequest(StepRequest):
    clinic_id: Identifier
    run_date: date
    horizon_date: date
    page_token: str | None = None
    page: int = 1
    run_id: str = "manual"


class RecallToStart(StepModel):
    name: str
    input: dict


class SelectDueResult(StepModel):
    recalls: list[RecallToStart]
    next_page_token: str | None
    items_read: int
    next_page: ClinicSweep | None = None
    """The next page's execution, if there is one and tonight's capacity allows it."""
    capacity_reached: bool = False


class RunDateRequest(StepRequest):
    run_date: date


class UpcomingCount(StepModel):
    due_next_30_days: int
    in_recall: int


class ReportResult(StepModel):
    keys: list[str]
    rows: int


class AlertResult(StepModel):
    task_ids: list[str]
    pending_cases: int


class AdminSummaryRequest(StepRequest):
    run_date: date
    due_next_30_days: int
    in_recall: int
    report_keys: list[str]


class AdminSummaryResult(StepModel):
    sent: bool
    message_id: str | None = None
