"""Insurance rules that need no provider."""

from __future__ import annotations

from revisit.models.entities import InsurancePolicy


def most_recent_policy(policies: list[InsurancePolicy]) -> InsurancePolicy | None:
    """R17: the primary policy is the one that started last."""
    return max(policies, key=lambda p: p.valid_from, default=None)
