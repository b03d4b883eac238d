"""The booking API and the channels into the tenant: API Gateway REST (a Lambda authorizer over hashed
integrator credentials, access logs, throttling, usage plan keyed by the authorizer) and the SNS topic its
two-way SMS number delivers replies to."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from revisit.topology import resource_name

from infra.constructs.observability import Observability

THROTTLE_RATE, THROTTLE_BURST = 50, 100
STAGE = "v1"
"""The stage's name: a constant, so a function can know the API's address without depending on the stage
(a function the API starts, indirectly, and that writes the API's address in patients' emails: a cycle)."""  # the whole API, per second; each integrator also has its own plan


class Api(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, tenant_id: str, key: kms.IKey,
                 functions: dict[str, lambda_.Function], failure_queues: dict[str, sqs.IQueue],
                 observability: Observability) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.inbound_sms = sns.Topic(self, "InboundSms", topic_name=resource_name(tenant_id, "inbound-sms"),
                                     master_key=key, enforce_ssl=True)
        # End User Messaging SMS delivers the replies to the tenant's numbers here (the key lets it encrypt).
        self.inbound_sms.add_to_resource_policy(iam.PolicyStatement(
            sid="RepliesFromEndUserMessaging", actions=["sns:Publish"], resources=[self.inbound_sms.topic_arn],
            principals=[iam.ServicePrincipal("sms-voice.amazonaws.com")],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account},
                        "ArnLike": {"aws:SourceArn": f"arn:aws:sms-voice:{stack.region}:{stack.account}:*"}}))
        functions["inbound_sms"].add_event_source(sources.SnsEventSource(
            self.inbound_sms, dead_letter_queue=failure_queues["inbound_sms"]))

        access_logs = observability.log_group(self, "AccessLogs")
        authorizer = apigateway.RequestAuthorizer(
            self, "Authorizer", handler=functions["api_authorizer"],
            identity_sources=[apigateway.IdentitySource.header("Authorization")],
            results_cache_ttl=Duration.minutes(5))
        self.rest_api = apigateway.LambdaRestApi(
            self, "RestApi", rest_api_name=resource_name(tenant_id), handler=functions["api"], proxy=False,
            # The account-wide role API Gateway logs with is set once per account (docs), not by each tenant.
            cloud_watch_role=False, api_key_source_type=apigateway.ApiKeySourceType.AUTHORIZER,
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            deploy_options=apigateway.StageOptions(
                stage_name=STAGE, tracing_enabled=True, throttling_rate_limit=THROTTLE_RATE,
                throttling_burst_limit=THROTTLE_BURST, logging_level=apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # request bodies carry patient data: never in execution logs
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=False)),
            default_method_options=apigateway.MethodOptions(
                authorizer=authorizer, authorization_type=apigateway.AuthorizationType.CUSTOM,
                api_key_required=True))
        health = self.rest_api.root.add_resource("health").add_method(
            "GET", authorization_type=apigateway.AuthorizationType.NONE, authorizer=None, api_key_required=False)
        Validations.of(health).acknowledge(
            Acknowledgment(id="AwsSolutions::AwsSolutions-APIG4", reason="GET /health is the liveness probe: it "
                           "answers {\"status\": \"ok\"} and reads nothing; every other route has the authorizer."),
            Acknowledgment(id="AwsSolutions::AwsSolutions-COG4", reason="No authorization on the liveness probe."))
        # A patient's one-click unsubscribe (RFC 8058): the link's unguessable id is the credential (the API
        # function finds it in the table); GET shows a page and changes nothing, POST unsubscribes.
        link = self.rest_api.root.add_resource("unsubscribe").add_resource("{token}")
        for method in ("GET", "POST"):
            Validations.of(link.add_method(method, authorization_type=apigateway.AuthorizationType.NONE,
                                           authorizer=None, api_key_required=False)).acknowledge(
                Acknowledgment(id="AwsSolutions::AwsSolutions-APIG4", reason="A patient's unsubscribe link: its "
                               "KMS HMAC signature is the credential (checked by the API function); no integrator "
                               "key can be asked of a patient's mail client."),
                Acknowledgment(id="AwsSolutions::AwsSolutions-COG4", reason="The link's signature authorizes it."))
        # X11: a patient's self-booking page, from the link in a recall message. The link's id (120 bits of the
        # tenant key's HMAC) is the credential: the API function finds the link by it or shows 'not valid'.
        booking_page = self.rest_api.root.add_resource("b").add_resource("{token}")
        for method in ("GET", "POST"):
            Validations.of(booking_page.add_method(method, authorization_type=apigateway.AuthorizationType.NONE,
                                                   authorizer=None, api_key_required=False)).acknowledge(
                Acknowledgment(id="AwsSolutions::AwsSolutions-APIG4", reason="A patient's self-booking link: its "
                               "unguessable id is the credential (checked by the API function); a patient has no "
                               "integrator key."),
                Acknowledgment(id="AwsSolutions::AwsSolutions-COG4", reason="The link's id authorizes it."))
        self.rest_api.root.add_proxy(any_method=True)
        # The stage's execution log group, created here so it is encrypted with the tenant's key and kept a
        # year (API Gateway would create it unencrypted, kept forever).
        logs.LogGroup(self, "ExecutionLogs", log_group_name=f"API-Gateway-Execution-Logs_{self.rest_api.rest_api_id}/v1",
                      encryption_key=key, retention=logs.RetentionDays.ONE_YEAR, removal_policy=RemovalPolicy.RETAIN)
        self.usage_plan = self.rest_api.add_usage_plan(
            "Integrators", name=resource_name(tenant_id, "integrators"),
            throttle=apigateway.ThrottleSettings(rate_limit=10, burst_limit=20),
            api_stages=[apigateway.UsagePlanPerApiStage(api=self.rest_api, stage=self.rest_api.deployment_stage)])
        observability.alarm("ApiServerErrors", metric=self.rest_api.metric_server_error(period=Duration.minutes(5)),
                            threshold=5, evaluation_periods=1, alarm_description="booking API 5xx responses")
