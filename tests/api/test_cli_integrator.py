import boto3
from moto import mock_aws
from revisit.adapters import dynamo_keys
from revisit.cli import main

from tests.conftest import DEMO_TENANT


def test_issue_attaches_the_key_to_the_usage_plan_and_revoke_refuses_it(capsys, monkeypatch):
    for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        boto3.client("dynamodb").create_table(**dynamo_keys.table_definition("revisit-demo"))
        plan = boto3.client("apigateway").create_usage_plan(name="integrators")["id"]
        assert main(["integrator", "issue", "clinic-website", "--tenant", str(DEMO_TENANT), "--usage-plan-id", plan]) == 0
        printed = capsys.readouterr().out
        key_id = printed.split("key id ")[1].split()[0]
        assert "Bearer rvk_" in printed
        keys = boto3.client("apigateway").get_usage_plan_keys(usagePlanId=plan)["items"]
        assert [k["value"] for k in keys] == [f"revisit-usage-{key_id}"]
        assert main(["integrator", "revoke", key_id, "--tenant", str(DEMO_TENANT)]) == 0
        item = boto3.resource("dynamodb").Table("revisit-demo").get_item(Key=dynamo_keys.credential(key_id))["Item"]
        assert item["revoked"] is True and "secret" not in str({k: v for k, v in item.items() if k != "secret_sha256"})
        assert main(["integrator", "issue", "x", "--tenant", str(DEMO_TENANT), "--rate", "0"]) == 2
