"""The functions (one Lambda and one least-privilege role per declared folder) and the state machines, read
from revisit.topology: the same declaration the offline stack runs. The ASL files are inlined so cfn-lint
checks them; a Task state's function gets its invoke grant here (ASL files get no automatic grants)."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Stack, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from revisit import topology
from revisit.topology import LinkUse, Topology

from infra.constructs.messaging import Messaging
from infra.constructs.naming import camel
from infra.constructs.observability import Observability

ALARMED_COUNTS = {
    "MessagesNotSent": "messages the provider refused, or whose sending was interrupted (unconfirmed)",
    "SmsBudgetReached": "the month's SMS budget is spent: SMS are refused until the next month",
    "SmsCountryRefused": "an SMS to a number outside the tenant's countries was refused (SMS pumping?)",
}


class Workflows(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, tenant_id: str, key: kms.IKey, links_key: kms.IKey,
                 table: dynamodb.ITableV2, reports: s3.IBucket, bus: events.IEventBus, messaging: Messaging,
                 observability: Observability, layers: list[lambda_.ILayerVersion],
                 reserved_concurrency: int | None = None, declared: Topology = topology.TOPOLOGY) -> None:
        super().__init__(scope, construct_id)
        self.functions: dict[str, lambda_.Function] = {}
        self.failure_queues: dict[str, sqs.Queue] = {}
        for folder, needs in declared.functions.items():
            role = iam.Role(self, f"{camel(folder)}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
            log_group = observability.log_group(self, f"{camel(folder)}Logs")
            function = lambda_.Function(
                self, camel(folder), function_name=topology.function_name(tenant_id, folder),
                runtime=lambda_.Runtime.PYTHON_3_14, handler="handler.lambda_handler",
                code=lambda_.Code.from_asset(str(declared.handler_path(folder).parent)), layers=layers,
                role=role, memory_size=512, reserved_concurrent_executions=reserved_concurrency,
                timeout=Duration.seconds(60),
                tracing=lambda_.Tracing.ACTIVE, log_group=log_group, environment_encryption=key,
                environment=topology.function_environment(tenant_id, table.table_name, reports.bucket_name,
                                                          "/opt/tenant/tenant.json"),
            )
            log_group.grant_write(role)
            if needs.table_actions:  # exactly the declared actions (tests/infra/test_iam_calls.py)
                table.grant(role, *(f"dynamodb:{action}" for action in needs.table_actions))
                # DynamoDB uses the tenant's key with the caller's permissions (what CDK's grant_*_data adds).
                key.grant(role, "kms:Decrypt", "kms:DescribeKey", *(
                    ("kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*") if needs.writes_table else ()))
            if needs.reports:  # puts objects under reports/, nothing else (S3 encrypts with the tenant's key)
                role.add_to_principal_policy(iam.PolicyStatement(
                    actions=["s3:PutObject"], resources=[reports.arn_for_objects(f"{topology.REPORTS_PREFIX}*")]))
                key.grant(role, "kms:GenerateDataKey")
            if needs.reads_reports:  # the console's report pages: lists and reads under reports/ only
                role.add_to_principal_policy(iam.PolicyStatement(
                    actions=["s3:GetObject"], resources=[reports.arn_for_objects(f"{topology.REPORTS_PREFIX}*")]))
                role.add_to_principal_policy(iam.PolicyStatement(
                    actions=["s3:ListBucket"], resources=[reports.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [f"{topology.REPORTS_PREFIX}*"]}}))
            if needs.sms:
                messaging.allow_sms(role)
            if needs.email:
                messaging.allow_email(role, simple=topology.SIMPLE_EMAIL in needs.email,
                                      mime=topology.MIME_EMAIL in needs.email)
                if messaging.configuration_set:
                    function.add_environment("SES_CONFIGURATION_SET", messaging.configuration_set)
            if needs.links != LinkUse.NONE:
                links_key.grant(role, "kms:GenerateMac")
                function.add_environment(topology.LINKS_ENVIRONMENT[0], links_key.key_id)
            if needs.events:
                bus.grant_put_events_to(function)
                function.add_environment(topology.EVENT_BUS_ENVIRONMENT, bus.event_bus_name)
            self.functions[folder] = function
            if needs.invoked_async:
                self._keep_failures(folder, function, key, observability)
            if needs.answers_tasks:  # IAM has no resource-level permission for task tokens: "*" it is
                role.add_to_principal_policy(iam.PolicyStatement(actions=["states:SendTaskSuccess"], resources=["*"]))
            if needs.consumes:
                self._consume(tenant_id, folder, function, needs.consumes, bus, key, observability)

        self.machines: dict[str, sfn.StateMachine] = {}
        for workflow in declared.creation_order():
            text, values = declared.definition(
                workflow, lambda folder: self.functions[folder].function_arn,
                lambda machine: self.machines[machine].state_machine_arn)
            state_machine = sfn.StateMachine(
                self, f"{camel(workflow.name)}Machine",
                state_machine_name=topology.state_machine_name(tenant_id, workflow.name),
                definition_body=sfn.DefinitionBody.from_string(text), definition_substitutions=values,
                tracing_enabled=True,
                logs=sfn.LogOptions(destination=observability.log_group(self, f"{camel(workflow.name)}MachineLogs"),
                                    level=sfn.LogLevel.ALL, include_execution_data=False),
            )
            for step in workflow.steps:
                self.functions[step.folder].grant_invoke(state_machine)
            for started in workflow.starts:
                self.machines[started].grant_start_execution(state_machine)
            stack = Stack.of(self)
            if workflow.starts_itself:  # by name: its own ARN token inside its role's policy would be a cycle
                state_machine.add_to_role_policy(iam.PolicyStatement(actions=["states:StartExecution"], resources=[
                    f"arn:aws:states:{stack.region}:{stack.account}:stateMachine:"
                    f"{topology.state_machine_name(tenant_id, workflow.name)}"]))
            for awaited in workflow.waits_for:  # what startExecution.sync:2 needs besides starting
                state_machine.add_to_role_policy(iam.PolicyStatement(
                    actions=["states:DescribeExecution", "states:StopExecution"],
                    resources=[f"arn:aws:states:{stack.region}:{stack.account}:execution:"
                               f"{topology.state_machine_name(tenant_id, awaited)}:*"]))
            if workflow.waits_for:
                state_machine.add_to_role_policy(iam.PolicyStatement(
                    actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                    resources=[f"arn:aws:events:{stack.region}:{stack.account}:rule/"
                               "StepFunctionsGetEventsForStepFunctionsExecutionRule"]))
            self.machines[workflow.name] = state_machine
            observability.alarm(f"{camel(workflow.name)}Failures", metric=cloudwatch.MathExpression(
                expression="FILL(failed, 0) + FILL(timedOut, 0)", label=f"{workflow.name} failed or timed out",
                using_metrics={"failed": state_machine.metric_failed(period=Duration.minutes(5)),
                               "timedOut": state_machine.metric_timed_out(period=Duration.minutes(5))},
                period=Duration.minutes(5)), threshold=1, evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"{workflow.name} executions failed or timed out")

        stack = Stack.of(self)
        for folder, needs in declared.functions.items():
            for started in needs.starts:
                function, machine = self.functions[folder], self.machines[started]
                function.add_environment(topology.state_machine_environment(started), machine.state_machine_arn)
                machine.grant_start_execution(function)
            for stopped in needs.stops:
                function = self.functions[folder]
                function.add_to_role_policy(iam.PolicyStatement(
                    actions=["states:StopExecution"],
                    resources=[f"arn:aws:states:{stack.region}:{stack.account}:execution:"
                               f"{topology.state_machine_name(tenant_id, stopped)}:*"]))

        for metric_name, description in ALARMED_COUNTS.items():
            observability.alarm(metric_name, metric=cloudwatch.Metric(
                namespace=topology.METRICS_NAMESPACE, metric_name=metric_name,
                dimensions_map=topology.metric_dimensions(tenant_id),
                period=Duration.minutes(15), statistic="Sum"), threshold=1, evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING, alarm_description=description)

    def _consume(self, tenant_id: str, folder: str, function: lambda_.Function, detail_types: tuple[str, ...],
                 bus: events.IEventBus, key: kms.IKey, observability: Observability) -> None:
        """The booking API's events the function consumes: a rule on the tenant's bus puts them in the
        function's encrypted queue; Lambda reads it in batches (a failed message alone is retried, up to five
        times, then kept 14 days in a dead-letter queue that alarms)."""
        dead = sqs.Queue(self, f"{camel(folder)}EventsDead", encryption=sqs.QueueEncryption.KMS,
                         encryption_master_key=key, enforce_ssl=True, retention_period=Duration.days(14))
        queue = sqs.Queue(self, f"{camel(folder)}Events", queue_name=topology.events_queue_name(tenant_id, folder),
                          encryption=sqs.QueueEncryption.KMS, encryption_master_key=key, enforce_ssl=True,
                          visibility_timeout=Duration.minutes(6),  # six times the function's timeout (Lambda's advice)
                          dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=5, queue=dead))
        events.Rule(self, f"{camel(folder)}Rule", rule_name=topology.events_rule_name(tenant_id, folder),
                    event_bus=bus, event_pattern=events.EventPattern(source=[topology.EVENTS_SOURCE],
                                                                     detail_type=list(detail_types)),
                    targets=[targets.SqsQueue(queue)])
        function.add_event_source(sources.SqsEventSource(queue, batch_size=10, report_batch_item_failures=True))
        observability.alarm(f"{camel(folder)}EventsDead", metric=dead.metric_approximate_number_of_messages_visible(
            period=Duration.minutes(5)), threshold=1, evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"{folder}: events it could not apply after five tries wait in its dead-letter queue")
        Validations.of(dead).acknowledge(Acknowledgment(
            id="AwsSolutions::AwsSolutions-SQS3", reason="This queue is the dead-letter queue of the events queue."))

    def _keep_failures(self, folder: str, function: lambda_.Function, key: kms.IKey,
                       observability: Observability) -> None:
        """An asynchronously invoked function's events that still fail after its retries (and, for SNS, those
        SNS could not deliver) wait in an encrypted queue for 14 days; one message there is an alarm."""
        queue = sqs.Queue(self, f"{camel(folder)}Failures", encryption=sqs.QueueEncryption.KMS,
                          encryption_master_key=key, enforce_ssl=True, retention_period=Duration.days(14))
        function.configure_async_invoke(on_failure=destinations.SqsDestination(queue), retry_attempts=2,
                                        max_event_age=Duration.hours(6))
        observability.alarm(f"{camel(folder)}FailuresWaiting",
                            metric=queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(5)),
                            threshold=1, evaluation_periods=1, treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                            alarm_description=f"{folder}: events that failed after their retries wait in its queue")
        self.failure_queues[folder] = queue
        Validations.of(queue).acknowledge(Acknowledgment(
            id="AwsSolutions::AwsSolutions-SQS3", reason="This queue is the dead-letter destination of an "
            "asynchronously invoked function and of its SNS subscription; nothing consumes it automatically."))
