"""I16: a new patient's coverage for the first visit, from the tenant's eligibility provider."""

from revisit.lambda_runtime import step
from revisit.models.steps.intake import CoverageRequest
from revisit.services.intake import verify_coverage

lambda_handler = step(CoverageRequest)(verify_coverage)
