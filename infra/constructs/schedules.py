"""EventBridge Scheduler schedules (each workflow the topology runs nightly) in the tenant's time zone, from
revisit.schedules: the offline driver fires the very same specs."""

from __future__ import annotations

import json

from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from revisit.models.tenant import TenantConfig
from revisit.schedules import tenant_schedules
from revisit.topology import TOPOLOGY, Topology

from infra.constructs.naming import camel


class Schedules(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: TenantConfig,
                 machines: dict[str, sfn.StateMachine], declared: Topology = TOPOLOGY) -> None:
        super().__init__(scope, construct_id)
        role = iam.Role(self, "SchedulerRole", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"))
        for spec in tenant_schedules(config, declared):
            machines[spec.state_machine].grant_start_execution(role)
            scheduler.CfnSchedule(
                self, f"Schedule{camel(spec.state_machine)}", name=spec.name,
                schedule_expression=spec.expression, schedule_expression_timezone=spec.time_zone,
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=machines[spec.state_machine].state_machine_arn, role_arn=role.role_arn,
                    input=json.dumps(spec.input)),
            )
