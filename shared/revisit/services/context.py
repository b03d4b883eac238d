"""What a service needs, passed in whole: the AWS adapters on Lambda and offline, in-memory fakes in tests."""

from __future__ import annotations

from dataclasses import dataclass

from revisit.models.tenant import TenantConfig
from revisit.ports import (
    EligibilityProvider,
    EventPublisher,
    MetricsSink,
    Notifier,
    ReportStore,
    Repositories,
    WorkflowStarter,
)


@dataclass
class TenantContext:
    config: TenantConfig
    tables: Repositories
    notifier: Notifier
    eligibility: EligibilityProvider
    reports: ReportStore
    metrics: MetricsSink
    workflows: WorkflowStarter | None = None
    events: EventPublisher | None = None
