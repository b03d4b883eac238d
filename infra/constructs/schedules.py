"""EventBridge Scheduler schedules (each workflow the topology runs nightly) in the tenant's time zone, from
revisit.schedules: the offline driver fires the very same specs."""

from __future__ import annotations

import json

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from revisit.models.tenant import TenantConfig
from revisit.schedules import tenant_schedules
from revisit.topology import TOPOLOGY, Topology

from infra.constructs.naming import camel
from infra.constructs.observability import Observability


class Schedules(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: TenantConfig, key: kms.IKey,
                 machines: dict[str, sfn.StateMachine], observability: Observability,
                 declared: Topology = TOPOLOGY) -> None:
        super().__init__(scope, construct_id)
        # A start the scheduler could not make after its retries waits here (and alarms), never lost.
        undelivered = sqs.Queue(self, "Undelivered", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key,
                                enforce_ssl=True, retention_period=Duration.days(14))
        Validations.of(undelivered).acknowledge(Acknowledgment(
            id="AwsSolutions::AwsSolutions-SQS3", reason="This queue is the schedules' dead-letter queue."))
        observability.alarm("ScheduleUndelivered", metric=undelivered.metric_approximate_number_of_messages_visible(
            period=Duration.minutes(5)), threshold=1, evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description="a scheduled start (the nightly sweep) could not be made")
        for spec in tenant_schedules(config, declared):
            machine = machines[spec.state_machine]
            # A role per schedule: it may start its own machine and nothing else.
            role = iam.Role(self, f"{camel(spec.state_machine)}SchedulerRole",
                            assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"))
            undelivered.grant_send_messages(role)
            machine.grant_start_execution(role)
            scheduler.CfnSchedule(
                self, f"Schedule{camel(spec.state_machine)}", name=spec.name,
                schedule_expression=spec.expression, schedule_expression_timezone=spec.time_zone,
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=machine.state_machine_arn, role_arn=role.role_arn, input=json.dumps(spec.input),
                    retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                        maximum_event_age_in_seconds=3 * 3600, maximum_retry_attempts=10),
                    dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=undelivered.queue_arn)),
            )
            if spec.every != "night":
                continue
            # A night without a sweep is noticed the next morning, whatever the cause.
            observability.alarm(f"No{camel(spec.state_machine)}Started", metric=machine.metric_started(
                period=Duration.days(1), statistic="Sum"), threshold=1, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
                alarm_description=f"no {spec.state_machine} execution started in the last 24 hours")
