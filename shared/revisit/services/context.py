"""What a service needs, passed in whole: the AWS adapters on Lambda and offline, in-memory fakes in tests."""

from __future__ import annotations

from dataclasses import dataclass

from revisit.models.tenant import TenantConfig
from revisit.ports import (
    EligibilityProvider,
    EventPublisher,
    LinkSigner,
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
    links: LinkSigner | None = None
    """Functions that sign or read patients' links have one (revisit.topology declares which)."""
    public_url: str | None = None
    """The booking API's public address: patients' links point to it."""
