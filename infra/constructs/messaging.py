"""What may message patients and staff: SMS through SNS (phone numbers only, never a topic) and email
through SES v2 from the tenant's sender address only."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct


class Messaging(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, sender_email: str,
                 configuration_set: str | None = None) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.sender_email = sender_email
        self.configuration_set = configuration_set
        self.ses_identities = f"arn:aws:ses:{stack.region}:{stack.account}:identity/*"
        # SES authorizes a send on the configuration set too when there is one (named, or the identity's default).
        self.ses_resources = [self.ses_identities] + (
            [f"arn:aws:ses:{stack.region}:{stack.account}:configuration-set/{configuration_set}"]
            if configuration_set else [])

    def allow_sms(self, role: iam.IRole) -> None:
        role.add_to_principal_policy(iam.PolicyStatement(actions=["sns:Publish"], not_resources=["arn:aws:sns:*:*:*"]))

    def allow_email(self, role: iam.IRole, *, simple: bool, mime: bool) -> None:
        """SES v2 authorizes a text-and-HTML email as ses:SendEmail, a raw MIME one as ses:SendRawEmail."""
        actions = (["ses:SendEmail"] if simple else []) + (["ses:SendRawEmail"] if mime else [])
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=actions, resources=self.ses_resources,
            conditions={"StringEquals": {"ses:FromAddress": self.sender_email}}))
