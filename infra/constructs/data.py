"""The tenant's key and table: customer-managed KMS key, point-in-time recovery, deletion protection.
Keys and indexes come from revisit.adapters.dynamo_keys, the same module the repositories use."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct
from revisit import topology
from revisit.adapters import dynamo_keys

PUBLISHING_SERVICES = {  # the service, and what of this account's it may act for
    "cloudwatch.amazonaws.com": "arn:aws:cloudwatch:{region}:{account}:alarm:*",
    "sms-voice.amazonaws.com": "arn:aws:sms-voice:{region}:{account}:*",
    "sns.amazonaws.com": "arn:aws:sns:{region}:{account}:{tenant}-*",
    "events.amazonaws.com": "arn:aws:events:{region}:{account}:rule/{tenant}/*",
}


class Data(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, tenant_id: str) -> None:
        super().__init__(scope, construct_id)
        region = Stack.of(self).region
        self.key = kms.Key(self, "DataKey", enable_key_rotation=True, alias=f"alias/{topology.resource_name(tenant_id)}",
                           removal_policy=RemovalPolicy.RETAIN)
        # Makes the ids of the links patients click (unsubscribe, self-booking, appointment pages): an HMAC key,
        # used only through kms:GenerateMac by the functions that send them. KMS cannot rotate HMAC keys.
        self.links_key = kms.Key(self, "LinksKey", key_spec=kms.KeySpec.HMAC_256,
                                 key_usage=kms.KeyUsage.GENERATE_VERIFY_MAC, enable_key_rotation=False,
                                 alias=f"alias/{topology.resource_name(tenant_id, 'links')}",
                                 description="signs patients' links (one-click unsubscribe)",
                                 removal_policy=RemovalPolicy.RETAIN)
        self.links_key.node.default_child.add_metadata("checkov", {"skip": [{
            "id": "CKV_AWS_7", "comment": "KMS rotates symmetric encryption keys only; an HMAC key cannot rotate."}]})
        # CloudWatch Logs encrypts the functions' and state machines' logs with the same key.
        account = Stack.of(self).account
        self.key.add_to_resource_policy(iam.PolicyStatement(
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            principals=[iam.ServicePrincipal(f"logs.{region}.amazonaws.com")], resources=["*"],
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                    f"arn:aws:logs:{region}:{account}:log-group:*"}}))
        # The services that write to the tenant's encrypted topics and queues on their own: CloudWatch alarms
        # (to the ops topic), End User Messaging SMS (replies to the inbound topic), SNS (undeliverable
        # messages to a dead-letter queue). Only for this account.
        for service, source in PUBLISHING_SERVICES.items():
            self.key.add_to_resource_policy(iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey*"], principals=[iam.ServicePrincipal(service)],
                resources=["*"], conditions={
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": source.format(region=region, account=account,
                                                               tenant=topology.resource_name(tenant_id))}}))

        definition = dynamo_keys.table_definition(topology.table_name(tenant_id))
        self.table = dynamodb.TableV2(
            self, "Table", table_name=definition["TableName"],
            partition_key=dynamodb.Attribute(name=dynamo_keys.PK, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=dynamo_keys.SK, type=dynamodb.AttributeType.STRING),
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(self.key),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            deletion_protection=True, time_to_live_attribute=dynamo_keys.TTL_ATTRIBUTE,
            removal_policy=RemovalPolicy.RETAIN,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=name,
                    partition_key=dynamodb.Attribute(name=pk, type=dynamodb.AttributeType.STRING),
                    sort_key=dynamodb.Attribute(name=sk, type=dynamodb.AttributeType.STRING),
                    projection_type=dynamodb.ProjectionType.INCLUDE if projected else dynamodb.ProjectionType.ALL,
                    non_key_attributes=projected,
                )
                for name, (pk, sk, projected) in dynamo_keys.INDEXES.items()
            ],
        )
