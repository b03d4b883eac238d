"""The tenant's ops dashboard (CloudWatch): last night's sweep, messages by channel and outcome, unconfirmed
sends, executions that failed or timed out, the API, and the SMS spend against the budget. Every widget names
the alarm that guards what it shows (docs/operations.md: what each alarm means). The Revisit metrics it reads
are the ones the functions emit, with their exact dimensions (tests/infra/test_dashboard.py)."""

from __future__ import annotations

from decimal import Decimal

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from revisit import topology

from infra.constructs.naming import camel
from infra.constructs.observability import Observability

SENT = ["SmsSent", "EmailSent", "StaffEmailSent", "CallTaskCreated", "ManualReviewCreated", "AdminTaskCreated"]
NOT_SENT = ["SmsFailed", "EmailFailed", "StaffEmailFailed"]
UNCONFIRMED = ["SmsUnconfirmed", "EmailUnconfirmed", "StaffEmailUnconfirmed"]
WIDTH = 24


class OpsDashboard(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, tenant_id: str, nightly: str,
                 machines: dict[str, sfn.StateMachine], rest_api: apigateway.RestApi, observability: Observability,
                 sms_budget_usd: Decimal | None) -> None:
        super().__init__(scope, construct_id)
        self._tenant_id = tenant_id
        alarms = observability.alarms
        region = Stack.of(self).region

        def named(*ids: str) -> str:
            return ", ".join(alarms[i].alarm_name for i in ids)

        recall = machines["recall"]
        due = self._metric("RecallsDue", "due", Duration.days(1))
        started = recall.metric_started(period=Duration.days(1), statistic="Sum", label="started")
        skipped = cloudwatch.MathExpression(expression="due - FILL(started, 0)", label="skipped (started before)",
                                            using_metrics={"due": due, "started": started},
                                            period=Duration.days(1))
        sweep_alarms = named(f"No{camel(nightly)}Started", f"{camel(nightly)}Failures", "SweepClinicFailures")
        console = f"https://{region}.console.aws.amazon.com/states/home?region={region}#/statemachines/view/"
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=topology.resource_name(tenant_id),
                                              start="-P7D", period_override=cloudwatch.PeriodOverride.INHERIT)
        self.dashboard.add_widgets(cloudwatch.TextWidget(width=WIDTH, height=3, markdown="\n".join([
            f"# Revisit: tenant {tenant_id}",
            "A failed execution: open its machine in the Step Functions console (links below), filter the "
            "executions by *Failed*, open the one named in the alarm's time window; its *Events* tab shows the "
            "step and the error. Names say what ran: `recall-<patient>-<due date>`, `sweep-<clinic>-<date>-p<n>-"
            "<run>`, `intake-<patient>` (docs/operations.md).",
            " · ".join(f"[{name}]({console}{machine.state_machine_arn})" for name, machine in machines.items()),
        ])))
        self.dashboard.add_widgets(cloudwatch.AlarmStatusWidget(
            title="Every alarm of the tenant (docs/operations.md says what each means)", width=WIDTH,
            alarms=list(alarms.values()), sort_by=cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP))
        self.dashboard.add_widgets(
            cloudwatch.SingleValueWidget(
                title=f"Last night's sweep: due, started, skipped · alarms {sweep_alarms}", width=12, height=4,
                metrics=[due, started, skipped, self._metric("SweepCapacityReached", "clinics over capacity",
                                                             Duration.days(1))]),
            cloudwatch.SingleValueWidget(
                title=f"Sends left unconfirmed (a try died mid-send) · alarm {named('MessagesNotSent')}", width=12,
                height=4, metrics=[self._metric(name, label, Duration.days(1))
                                   for name, label in zip(UNCONFIRMED, ("SMS", "email", "staff email"), strict=True)]),
        )
        self.dashboard.add_widgets(cloudwatch.GraphWidget(
            title=f"Messages by channel and outcome (per hour) · alarm {named('MessagesNotSent')}", width=WIDTH,
            height=6, stacked=True,
            left=[self._metric(name, name, Duration.hours(1)) for name in SENT],
            right=[self._metric(name, name, Duration.hours(1)) for name in NOT_SENT]))
        self.dashboard.add_widgets(*(
            cloudwatch.AlarmWidget(title=f"{name}: failed or timed out · alarm {alarms[f'{camel(name)}Failures'].alarm_name}",
                                   alarm=alarms[f"{camel(name)}Failures"], width=6, height=5)
            for name in machines))
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title=f"API: 4xx and 5xx (per 5 minutes) · alarm {named('ApiServerErrors')}", width=12, height=6,
                left=[rest_api.metric_client_error(period=Duration.minutes(5), label="4xx"),
                      rest_api.metric_server_error(period=Duration.minutes(5), label="5xx")]),
            cloudwatch.GraphWidget(
                title=f"API latency (no alarm of its own; errors: {named('ApiServerErrors')})", width=12, height=6,
                left=[rest_api.metric_latency(period=Duration.minutes(5), statistic=stat, label=stat)
                      for stat in ("p50", "p95", "p99")]),
        )
        budget = [cloudwatch.HorizontalAnnotation(value=float(sms_budget_usd), label="the tenant's monthly budget",
                                                  color=cloudwatch.Color.RED)] if sms_budget_usd else []
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title=f"SMS spend this month, USD, against the budget · alarm {named('SmsBudgetReached')}", width=12,
                height=6, left_annotations=budget,
                left=[self._metric("SmsSpendThisMonthUsd", "Revisit's count at list prices", Duration.days(1),
                                   "Maximum"),
                      # What AWS bills: the account's SMS spend this month (all tenants in the account).
                      cloudwatch.Metric(namespace="AWS/SNS", metric_name="SMSMonthToDateSpentUSD",
                                        label="the account's spend (SNS)", period=Duration.days(1),
                                        statistic="Maximum")]),
            cloudwatch.GraphWidget(
                title=f"SMS refused · alarms {named('SmsBudgetReached', 'SmsCountryRefused')}", width=12, height=6,
                left=[self._metric(name, name, Duration.hours(1)) for name in ("SmsBudgetReached", "SmsCountryRefused")]),
        )

    def _metric(self, name: str, label: str, period: Duration, statistic: str = "Sum") -> cloudwatch.Metric:
        return cloudwatch.Metric(namespace=topology.METRICS_NAMESPACE, metric_name=name, label=label,
                                 dimensions_map=topology.metric_dimensions(self._tenant_id), period=period,
                                 statistic=statistic)
