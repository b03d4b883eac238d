"""Ops alerts: an encrypted topic, encrypted log groups, and alarms that notify it. Every alarm is named
revisit-<tenant>-<what> (docs/operations.md says what each means and what to check first)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class Observability(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, tenant_id: str, key: kms.IKey, ops_email: str) -> None:
        super().__init__(scope, construct_id)
        self.key = key
        self.tenant_id = tenant_id
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        """By what each watches (the construct id): the dashboard names the alarm that guards a widget."""
        self.ops_alerts = sns.Topic(self, "OpsAlerts", master_key=key, enforce_ssl=True)
        stack = Stack.of(self)
        # CloudWatch alarms of this account publish here (the key lets them encrypt, see Data).
        self.ops_alerts.add_to_resource_policy(iam.PolicyStatement(
            sid="AlarmsOfThisAccount", actions=["sns:Publish"], resources=[self.ops_alerts.topic_arn],
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account},
                        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{stack.region}:{stack.account}:alarm:*"}}))
        self.ops_alerts.add_subscription(subscriptions.EmailSubscription(ops_email))

    def log_group(self, scope: Construct, construct_id: str) -> logs.LogGroup:
        return logs.LogGroup(scope, construct_id, retention=logs.RetentionDays.ONE_YEAR, encryption_key=self.key,
                             removal_policy=RemovalPolicy.RETAIN)

    def alarm(self, construct_id: str, **props) -> cloudwatch.Alarm:
        """An alarm whose every state change goes to the ops topic."""
        alarm = cloudwatch.Alarm(self, construct_id, alarm_name=alarm_name(self.tenant_id, construct_id), **props)
        self.alarms[construct_id] = alarm
        action = cloudwatch_actions.SnsAction(self.ops_alerts)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        alarm.add_insufficient_data_action(action)
        return alarm


def alarm_name(tenant_id: str, what: str) -> str:
    return f"revisit-{tenant_id}-{what}"
