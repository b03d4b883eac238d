"""DynamoDB repositories, one module per aggregate, all over the tenant's one table (single-table design,
every key built in revisit.adapters.dynamo_keys). Only this package talks to DynamoDB."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from revisit.adapters.dynamo.appointments import AppointmentRepository
from revisit.adapters.dynamo.attempts import AttemptRepository
from revisit.adapters.dynamo.audit import AuditRepository
from revisit.adapters.dynamo.booking_links import BookingLinkRepository, UnsubscribeLinkRepository
from revisit.adapters.dynamo.campaigns import CampaignRepository
from revisit.adapters.dynamo.credentials import CredentialRepository
from revisit.adapters.dynamo.daily_counts import DailyCountRepository
from revisit.adapters.dynamo.leads import LeadRepository
from revisit.adapters.dynamo.notices import StaffNoticeRepository
from revisit.adapters.dynamo.patients import PatientRepository
from revisit.adapters.dynamo.recall_cycles import RecallCycleRepository
from revisit.adapters.dynamo.sms_spend import SmsSpendRepository
from revisit.adapters.dynamo.tasks import TaskRepository
from revisit.adapters.dynamo.visits import VisitRepository
from revisit.models.tenant import TenantConfig

__all__ = ["TenantTables"]


class TenantTables:
    """Every repository of one tenant (revisit.ports.Repositories), over the tenant's table."""

    def __init__(self, table: Any, config: TenantConfig) -> None:
        self.patients = PatientRepository(table, config)
        self.cycles = RecallCycleRepository(table)
        self.attempts = AttemptRepository(table)
        self.tasks = TaskRepository(table)
        self.appointments = AppointmentRepository(table, {
            p.provider_id: ZoneInfo(config.clinic(p.clinic_id).time_zone) for p in config.providers})
        self.notices = StaffNoticeRepository(table)
        self.credentials = CredentialRepository(table)
        self.sms_spend = SmsSpendRepository(table)
        self.daily_counts = DailyCountRepository(table)
        self.leads = LeadRepository(table)
        self.campaigns = CampaignRepository(table)
        self.visits = VisitRepository(table)
        self.booking_links = BookingLinkRepository(table)
        self.unsubscribe_links = UnsubscribeLinkRepository(table)
        self.audit = AuditRepository(table)
