"""Where the daily and monthly reports land: a KMS-encrypted, versioned bucket with access logs."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct


class Reports(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey, bucket_name: str) -> None:
        super().__init__(scope, construct_id)
        # S3 server access logging cannot deliver to a KMS-encrypted bucket: the log bucket uses SSE-S3.
        self.access_logs = s3.Bucket(self, "AccessLogs", encryption=s3.BucketEncryption.S3_MANAGED,
                                     enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                                     versioned=True, removal_policy=RemovalPolicy.RETAIN, lifecycle_rules=[
                                         s3.LifecycleRule(id="AccessLogsForOneYear", expiration=Duration.days(365),
                                                          noncurrent_version_expiration=Duration.days(30))])
        # Reports are rewritten nightly and re-creatable from the table: old versions go after 90 days.
        self.bucket = s3.Bucket(self, "Bucket", bucket_name=bucket_name, encryption=s3.BucketEncryption.KMS,
                                encryption_key=key,
                                enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL, versioned=True,
                                server_access_logs_bucket=self.access_logs, server_access_logs_prefix="reports/",
                                removal_policy=RemovalPolicy.RETAIN, lifecycle_rules=[
                                    s3.LifecycleRule(id="OldReportVersions", noncurrent_version_expiration=Duration.days(90),
                                                     abort_incomplete_multipart_upload_after=Duration.days(7))])
