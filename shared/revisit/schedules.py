"""The tenant's schedules, defined once: the CDK app turns them into EventBridge Scheduler schedules,
and the offline driver fires the very same definitions in virtual time."""

from __future__ import annotations

from dataclasses import dataclass, field

from revisit.models.tenant import TenantConfig
from revisit.topology import TOPOLOGY, Topology, resource_name

SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    expression: str
    time_zone: str
    state_machine: str
    input: dict = field(default_factory=dict)
    every: str = "night"
    """"night", "day" or "month": what a missing start means (a night without a sweep alarms the next morning)."""


def tenant_schedules(config: TenantConfig, declared: Topology = TOPOLOGY) -> list[ScheduleSpec]:
    """One schedule per workflow the topology runs nightly (at the tenant's sweep time in its zone) or
    monthly (the 1st of the month at its report time)."""
    at, report_at = config.sweep.local_time, config.reports.daily_local_time
    nightly = [
        ScheduleSpec(
            name=resource_name(config.tenant_id, workflow.nightly),
            expression=f"cron({at.minute} {at.hour} * * ? *)",
            time_zone=config.time_zone,
            state_machine=workflow.name,
            input={"scheduled_time": SCHEDULED_TIME},
        )
        for workflow in declared.workflows if workflow.nightly
    ]
    monthly = [
        ScheduleSpec(
            name=resource_name(config.tenant_id, workflow.monthly),
            expression=f"cron({report_at.minute} {report_at.hour} 1 * ? *)",
            time_zone=config.time_zone,
            state_machine=workflow.name,
            input={"scheduled_time": SCHEDULED_TIME},
            every="month",
        )
        for workflow in declared.workflows if workflow.monthly
    ]
    daily = [
        ScheduleSpec(
            name=resource_name(config.tenant_id, workflow.daily),
            expression=f"cron({report_at.minute} {report_at.hour} * * ? *)",
            time_zone=config.time_zone,
            state_machine=workflow.name,
            input={"scheduled_time": SCHEDULED_TIME},
            every="day",
        )
        for workflow in declared.workflows if workflow.daily
    ]
    return nightly + daily + monthly
