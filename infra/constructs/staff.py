"""The staff console (issue 15): the tenant's Cognito user pool (a group per role, an app client for the
console), the /staff routes behind a Cognito authorizer, and the console's static site: a private S3 bucket
behind CloudFront, which also forwards /staff/* to the API (one origin for the browser: no CORS). `revisit
deploy` uploads the files after the stack (revisit/operations/console.py)."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_s3 as s3
from constructs import Construct
from revisit.console_site import content_security_policy
from revisit.models.common import Role
from revisit.topology import resource_name

SESSION = Duration.minutes(60)
"""An ID token's life; the console also ends a session after 15 idle minutes."""


class StaffConsole(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, tenant_id: str, rest_api: apigateway.RestApi,
                 access_logs: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.user_pool = cognito.UserPool(
            self, "Users", user_pool_name=resource_name(tenant_id, "staff"), self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            password_policy=cognito.PasswordPolicy(min_length=12, require_digits=True, require_lowercase=True,
                                                   require_uppercase=True, require_symbols=True,
                                                   temp_password_validity=Duration.days(3)),
            mfa=cognito.Mfa.OPTIONAL, mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY, deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN)
        for role in Role:  # the user's group is their role (the tenant file must agree: services/staff_console.py)
            cognito.CfnUserPoolGroup(self, f"Group{role.name.title().replace('_', '')}",
                                     user_pool_id=self.user_pool.user_pool_id, group_name=role.value)
        self.client = self.user_pool.add_client(
            "Console", user_pool_client_name="console", generate_secret=False, prevent_user_existence_errors=True,
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True), id_token_validity=SESSION,
            access_token_validity=SESSION, refresh_token_validity=Duration.hours(12), enable_token_revocation=True)
        Validations.of(self.user_pool).acknowledge(
            Acknowledgment(id="AwsSolutions::AwsSolutions-COG2", reason="MFA is offered (TOTP) and each chain "
                           "decides to require it in its pool; the demo users sign in with a password only."),
            Acknowledgment(id="AwsSolutions::AwsSolutions-COG3", reason="Threat protection is a paid feature "
                           "plan a chain turns on in its account; the pool has no self sign-up and a strict "
                           "password policy."),
            Acknowledgment(id="AwsSolutions::AwsSolutions-COG8", reason="The Plus feature plan (threat "
                           "protection) is the chain's choice and cost; see COG3."))

        # The /staff routes: the tenant's user pool authorizes, the API function decides per role.
        authorizer = apigateway.CognitoUserPoolsAuthorizer(self, "Authorizer", cognito_user_pools=[self.user_pool],
                                                           identity_source="method.request.header.Authorization")
        rest_api.root.add_resource("staff").add_proxy(any_method=True, default_method_options=apigateway.MethodOptions(
            authorizer=authorizer, authorization_type=apigateway.AuthorizationType.COGNITO, api_key_required=False))

        # The console's files: private bucket, read by CloudFront only (origin access control).
        self.site = s3.Bucket(self, "Site", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
                              block_public_access=s3.BlockPublicAccess.BLOCK_ALL, versioned=True,
                              server_access_logs_bucket=access_logs, server_access_logs_prefix="console/",
                              removal_policy=RemovalPolicy.DESTROY, lifecycle_rules=[
                                  s3.LifecycleRule(id="OldConsoleVersions", noncurrent_version_expiration=Duration.days(30),
                                                   abort_incomplete_multipart_upload_after=Duration.days(7))])
        cognito_endpoint = f"https://cognito-idp.{stack.region}.{stack.url_suffix}/"
        headers = cloudfront.ResponseHeadersPolicy(
            self, "Headers", security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(cognito_endpoint), override=True),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365), include_subdomains=True, override=True)))
        api_origin = origins.RestApiOrigin(rest_api)
        self.distribution = cloudfront.Distribution(
            self, "Distribution", comment=resource_name(tenant_id, "console"), default_root_object="index.html",
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            enable_logging=True, log_bucket=access_logs, log_file_prefix="console-cdn/",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.site),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                response_headers_policy=headers),
            additional_behaviors={"/staff/*": cloudfront.BehaviorOptions(
                origin=api_origin, viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL, cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER)})
        # The files are uploaded by `revisit deploy` after the stack (revisit/operations/console.py): no custom
        # resource function in the stack, and config.json carries this client's id.
        Validations.of(self.distribution).acknowledge(
            Acknowledgment(id="AwsSolutions::AwsSolutions-CFR1", reason="A chain's staff work where its clinics are; "
                           "the tenant's countries differ (US, Spain, Bulgaria, Russia): no geo restriction here."),
            Acknowledgment(id="AwsSolutions::AwsSolutions-CFR2", reason="WAF is a per-account decision (a web ACL "
                           "per chain costs monthly); every route behind it requires a Cognito sign-in."),
            Acknowledgment(id="AwsSolutions::AwsSolutions-CFR4", reason="The distribution's default certificate "
                           "allows TLS 1.0 on its *.cloudfront.net name; a chain's custom domain sets TLS 1.2."))
