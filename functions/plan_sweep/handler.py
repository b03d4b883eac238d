"""The nightly sweep's plan: which night, which clinics."""

from revisit.lambda_runtime import step
from revisit.models.steps.sweep import PlanSweepRequest
from revisit.services.sweep import plan_sweep

lambda_handler = step(PlanSweepRequest)(plan_sweep)
