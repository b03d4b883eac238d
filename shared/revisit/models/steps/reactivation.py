"""Reactivation: one campaign execution, one execution per patient of the campaign."""

from datetime import UTC

from pydantic import AwareDatetime, field_serializer

from revisit.models.common import Identifier
from revisit.models.steps import StepModel, StepRequest


class CampaignPage(StepRequest):
    campaign_id: Identifier
    clinic_index: int = 0
    token: str | None = None


class CampaignPageResult(StepModel):
    done: bool
    clinic_index: int
    token: str | None
    started: int


class ReactivationRef(StepRequest):
    campaign_id: Identifier
    patient_id: Identifier
    failed: bool = False


class ReactivationStep(StepModel):
    done: bool
    outcome: str
    next_at: AwareDatetime | None = None
    """When to look again (the next link, the send window, the answer time)."""

    @field_serializer("next_at")
    def _utc(self, value: AwareDatetime | None) -> str | None:
        """Step Functions' Wait reads it: UTC, 'Z'."""
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None
