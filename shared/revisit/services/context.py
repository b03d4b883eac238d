"""What a workflow step needs, passed in whole so tests can hand in fakes."""

from __future__ import annotations

from dataclasses import dataclass

from revisit.adapters.dynamo import TenantTables
from revisit.models.tenant import TenantConfig
from revisit.ports import EligibilityProvider, EventPublisher, Notifier, ReportStore, WorkflowStarter


@dataclass
class TenantContext:
    config: TenantConfig
    tables: TenantTables
    notifier: Notifier
    eligibility: EligibilityProvider
    reports: ReportStore
    workflows: WorkflowStarter | None = None
    events: EventPublisher | None = None
