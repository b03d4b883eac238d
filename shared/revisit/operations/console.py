"""`revisit publish-console` (the last step of `revisit deploy`): the staff console's files and its config.json
into the stack's site bucket, then a CloudFront invalidation so staff get them at once. The stack's outputs
name the bucket, the distribution and the app client; Cognito's endpoint is the region's."""

from __future__ import annotations

from typing import Any

from revisit.console_site import CONSOLE_DIR, CONSOLE_FILES, console_config

NEEDED = ("ConsoleBucketName", "ConsoleDistributionId", "StaffConsoleClientId")


class NotDeployed(Exception):
    """The stack lacks the console's outputs (not deployed, or deployed before the console existed)."""


def publish(outputs: dict[str, str], region: str, s3: Any, cloudfront: Any, reference: str) -> list[str]:
    """Uploads the files; returns their keys. `reference` makes the invalidation's caller reference unique."""
    missing = [name for name in NEEDED if not outputs.get(name)]
    if missing:
        raise NotDeployed(f"the stack has no {', '.join(missing)} output: deploy the stack first")
    bucket = outputs["ConsoleBucketName"]
    uploaded = []
    for name, content_type in CONSOLE_FILES.items():
        s3.put_object(Bucket=bucket, Key=name, Body=(CONSOLE_DIR / name).read_bytes(), ContentType=content_type)
        uploaded.append(name)
    config = console_config(f"https://cognito-idp.{region}.amazonaws.com/", outputs["StaffConsoleClientId"], "")
    s3.put_object(Bucket=bucket, Key="config.json", Body=config.encode(), ContentType="application/json",
                  CacheControl="no-cache")
    uploaded.append("config.json")
    cloudfront.create_invalidation(DistributionId=outputs["ConsoleDistributionId"], InvalidationBatch={
        "Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": reference})
    return uploaded


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    [found] = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}
