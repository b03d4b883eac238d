"""The tenant's schedules, defined once: the CDK app turns them into EventBridge Scheduler schedules,
and the offline driver fires the very same definitions in virtual time."""

from __future__ import annotations

from dataclasses import dataclass, field

from revisit.models.tenant import TenantConfig
from revisit.topology import SWEEP, resource_name

SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    expression: str
    time_zone: str
    state_machine: str
    input: dict = field(default_factory=dict)


def tenant_schedules(config: TenantConfig) -> list[ScheduleSpec]:
    at = config.sweep.local_time
    return [
        ScheduleSpec(
            name=resource_name(config.tenant_id, "nightly-recall-sweep"),
            expression=f"cron({at.minute} {at.hour} * * ? *)",
            time_zone=config.time_zone,
            state_machine=SWEEP.name,
            input={"scheduled_time": SCHEDULED_TIME},
        )
    ]
