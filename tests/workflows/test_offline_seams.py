"""If a moto upgrade breaks a seam in revisit/offline/seams.py, these fail loudly."""

import json
import time
from datetime import timedelta
from decimal import Decimal

from revisit.offline.stack import OfflineStack

from tests.conftest import DEMO_TENANT, START


def test_a_one_week_wait_passes_in_virtual_time_and_history_uses_virtual_timestamps():
    with OfflineStack(DEMO_TENANT, START) as stack:
        sfn = stack.client("stepfunctions")
        arn = sfn.create_state_machine(name="wait-week", roleArn="arn:aws:iam::123456789012:role/x", definition=json.dumps(
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 7 * 86400, "Next": "T"},
                                        "T": {"Type": "Wait", "TimestampPath": "$.at", "End": True}}}))["stateMachineArn"]
        at = (START + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
        execution = sfn.start_execution(stateMachineArn=arn, name="w1", input=json.dumps({"at": at}))["executionArn"]
        began = time.monotonic()
        from revisit.offline.driver import Driver
        Driver(stack).run_until(START + timedelta(days=11))
        described = sfn.describe_execution(executionArn=execution)
        assert described["status"] == "SUCCEEDED"
        assert time.monotonic() - began < 5
        assert described["stopDate"].replace(tzinfo=None) == (START + timedelta(days=10)).replace(tzinfo=None)
        assert described["startDate"].replace(tzinfo=None) == START.replace(tzinfo=None)


def _dynamo_answers():
    """The same calls, answered by whatever moto is installed: base-table and index queries, pages, counts,
    writes, batches, transactions and their errors."""
    import boto3
    from boto3.dynamodb.conditions import Key
    from revisit.adapters import dynamo_keys

    ddb = boto3.resource("dynamodb", region_name="us-east-1")
    ddb.meta.client.create_table(**dynamo_keys.table_definition("seams"))
    table = ddb.Table("seams")
    def index_query(clinic):
        return table.query(IndexName=dynamo_keys.DUE_INDEX, KeyConditionExpression=Key("due_pk").eq(clinic))["Items"]

    early, errors = [], {}
    for n in range(30):
        table.put_item(Item={"pk": f"PATIENT#p{n % 3}", "sk": f"ITEM#{n:03d}", "n": n, "tags": ["a", "b"],
                             "nested": {"x": Decimal(n) / 2 if n % 2 else n}, "due_pk": "DUE#boston" if n % 4 else "DUE#madrid",
                             "due_sk": f"2026-11-{n % 28 + 1:02d}#p{n}"})
        if n == 14:  # the index is read once before the rest is written: what follows keeps it current
            early.append(index_query("DUE#boston"))
    client = ddb.meta.client
    # an item moves between index partitions in place, another leaves the index, another is deleted
    table.update_item(Key={"pk": "PATIENT#p1", "sk": "ITEM#001"}, UpdateExpression="SET due_pk = :m",
                      ExpressionAttributeValues={":m": "DUE#madrid"})
    table.update_item(Key={"pk": "PATIENT#p2", "sk": "ITEM#002"}, UpdateExpression="REMOVE due_pk, due_sk")
    table.delete_item(Key={"pk": "PATIENT#p0", "sk": "ITEM#003"})
    early.append(index_query("DUE#madrid"))
    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": "seams", "Item": {"pk": "T#1", "sk": "A", "v": 1}, "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": "seams", "Key": {"pk": "PATIENT#p0", "sk": "ITEM#000"}, "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": 2}}}])
    failed = None
    try:  # the last item's condition fails: nothing of this transaction may stay
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": "seams", "Item": {"pk": "T#2", "sk": "A"}}},
            {"Delete": {"TableName": "seams", "Key": {"pk": "PATIENT#p1", "sk": "ITEM#001"}}},
            {"Update": {"TableName": "seams", "Key": {"pk": "PATIENT#p0", "sk": "ITEM#000"}, "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": 3}}},
            {"Update": {"TableName": "seams", "Key": {"pk": "PATIENT#p1", "sk": "ITEM#005"},
                        "UpdateExpression": "SET due_pk = :m", "ExpressionAttributeValues": {":m": "DUE#madrid"}}},
            {"Put": {"TableName": "seams", "Item": {"pk": "T#1", "sk": "A"}, "ConditionExpression": "attribute_not_exists(pk)"}}])
    except client.exceptions.TransactionCanceledException as exc:
        failed = [r.get("Code") for r in exc.response["CancellationReasons"]]
        errors["transaction"] = _without_metadata(exc.response)
    try:  # a condition fails outside a transaction
        table.put_item(Item={"pk": "T#1", "sk": "A"}, ConditionExpression="attribute_not_exists(pk)",
                       ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except client.exceptions.ConditionalCheckFailedException as exc:
        errors["condition"] = _without_metadata(exc.response)
    try:  # the same key twice in one batch
        client.batch_write_item(RequestItems={"seams": [{"PutRequest": {"Item": {"pk": "B#3", "sk": "A"}}},
                                                        {"PutRequest": {"Item": {"pk": "B#3", "sk": "A"}}}]})
    except client.exceptions.ClientError as exc:
        errors["duplicate"] = (type(exc).__name__, _without_metadata(exc.response))
    other = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn="arn:aws:iam::111111111111:role/other", RoleSessionName="seams")["Credentials"]
    try:  # another account's credentials see none of this account's tables
        boto3.resource("dynamodb", region_name="us-east-1", aws_access_key_id=other["AccessKeyId"],
                       aws_secret_access_key=other["SecretAccessKey"], aws_session_token=other["SessionToken"],
                       ).Table("seams").get_item(Key={"pk": "T#1", "sk": "A"})
    except client.exceptions.ClientError as exc:
        errors["other_account"] = (type(exc).__name__, _without_metadata(exc.response))
    metadata = {name: sorted(response["ResponseMetadata"]) + sorted(response["ResponseMetadata"]["HTTPHeaders"])
                for name, response in (("read", table.get_item(Key={"pk": "T#1", "sk": "A"})),
                                       ("error", _error_response(lambda: table.put_item(
                                           Item={"pk": "T#1", "sk": "A"}, ConditionExpression="attribute_not_exists(pk)"))))}
    try:  # a request DynamoDB refuses
        table.update_item(Key={"pk": "T#1", "sk": "A"}, UpdateExpression="SET v = :missing",
                          ExpressionAttributeValues={":v": 1})
    except client.exceptions.ClientError as exc:
        errors["validation"] = (type(exc).__name__, _without_metadata(exc.response))
    written = {
        "updated": _without_metadata(table.update_item(
            Key={"pk": "PATIENT#p0", "sk": "ITEM#006"}, UpdateExpression="ADD n :one SET tags = list_append(tags, :t)",
            ExpressionAttributeValues={":one": 1, ":t": ["c"]}, ReturnValues="ALL_NEW")),
        "deleted": _without_metadata(table.delete_item(Key={"pk": "PATIENT#p0", "sk": "ITEM#009"}, ReturnValues="ALL_OLD")),
        "batch_write": _without_metadata(client.batch_write_item(RequestItems={"seams": [
            {"PutRequest": {"Item": {"pk": "B#2", "sk": "A", "n": 1}}},
            {"DeleteRequest": {"Key": {"pk": "PATIENT#p2", "sk": "ITEM#008"}}}]})),
        "binary_write": _without_metadata(client.batch_write_item(RequestItems={"seams": [
            {"PutRequest": {"Item": {"pk": "B#1", "sk": "A", "bin": b"\x00\x01"}}}]})),
        "batch_get": sorted(ddb.batch_get_item(RequestItems={"seams": {"Keys": [
            {"pk": "B#1", "sk": "A"}, {"pk": "PATIENT#p1", "sk": "ITEM#007"}]}})["Responses"]["seams"],
            key=lambda item: item["pk"]),
        "transact_get": _without_metadata(client.transact_get_items(TransactItems=[
            {"Get": {"TableName": "seams", "Key": {"pk": "T#1", "sk": "A"}}}])),
        "binary": table.get_item(Key={"pk": "B#1", "sk": "A"})["Item"],
    }
    pages, start = [], None
    while True:
        page = table.query(IndexName=dynamo_keys.DUE_INDEX, KeyConditionExpression=Key("due_pk").eq("DUE#boston"),
                           Limit=7, **({"ExclusiveStartKey": start} if start else {}))
        pages.append(page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    return {
        "get": table.get_item(Key={"pk": "PATIENT#p1", "sk": "ITEM#004"})["Item"],
        "partition": table.query(KeyConditionExpression=Key("pk").eq("PATIENT#p2") & Key("sk").begins_with("ITEM#01"))["Items"],
        "reverse": table.query(KeyConditionExpression=Key("pk").eq("PATIENT#p0"), ScanIndexForward=False, Limit=3)["Items"],
        "index_pages": pages,
        "count": table.query(IndexName=dynamo_keys.DUE_INDEX, Select="COUNT",
                             KeyConditionExpression=Key("due_pk").eq("DUE#madrid"))["Count"],
        "scan": table.scan()["Items"],
        "failed": failed,
        "early": early,
        "madrid": index_query("DUE#madrid"),
        "errors": errors,
        "written": written,
        "metadata": metadata,
    }


def _error_response(call):
    try:
        call()
    except Exception as exc:
        return exc.response
    raise AssertionError("the call should have failed")


def _without_metadata(response):
    """A response as the caller reads it, without the request's id and HTTP headers (new on every call)."""
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


def test_the_speed_seams_answer_dynamodb_calls_and_errors_exactly_as_moto_does(monkeypatch):
    from moto import mock_aws
    from moto.core.models import botocore_stubber
    from revisit.offline import seams
    from revisit.offline.lambda_dispatch import InProcessLambda
    from revisit.offline.virtual_time import VirtualClock

    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        plain = _dynamo_answers()
    seams.install(VirtualClock(START), InProcessLambda("us-east-1", "123456789012"))
    over_http = []
    monkeypatch.setattr(botocore_stubber, "process_request", lambda request, original=botocore_stubber.process_request:
                        over_http.append(request.headers.get("X-Amz-Target", b"").decode()) or original(request))
    try:
        with mock_aws():
            seamed = _dynamo_answers()
    finally:
        seams.uninstall()
    assert seamed == plain
    assert len(plain["index_pages"]) > 1 and plain["count"] > 0 and len(plain["partition"]) > 0
    assert plain["failed"][-1] == "ConditionalCheckFailed" and not any(i["pk"] == "T#2" for i in plain["scan"])
    errors = plain["errors"]
    assert errors["condition"]["Error"]["Code"] == "ConditionalCheckFailedException" and errors["condition"]["Item"]
    assert errors["validation"][0] == "ClientError" and errors["validation"][1]["Error"]["Code"] == "ValidationException"
    assert plain["written"]["updated"]["Attributes"]["tags"] == ["a", "b", "c"]
    assert plain["written"]["binary"]["bin"].value == b"\x00\x01"
    assert errors["duplicate"][1]["Error"]["Code"] == "ValidationException"
    assert errors["other_account"][1]["Error"]["Code"] == "ResourceNotFoundException"
    assert "RequestId" in plain["metadata"]["read"] and "x-amz-crc32" in plain["metadata"]["error"]
    # Seam 12: item calls answered in process; only the table's creation and the binary write went over HTTP.
    assert [target for target in over_http if target.startswith("DynamoDB")] == [
        "DynamoDB_20120810.CreateTable", "DynamoDB_20120810.BatchWriteItem"]


def test_calls_are_recorded_under_the_state_machine_and_the_function_that_made_them():
    """Seam 10: an execution runs as its machine, the Map iterations' threads too, and each Lambda as
    itself; what a test does itself (no principal) is not recorded."""
    import boto3
    from revisit.offline import aws_calls
    from revisit.offline.stack import ACCOUNT

    recorder = aws_calls.recorder(ACCOUNT)  # not cleared: what it holds is saved when a stack closes
    with OfflineStack(DEMO_TENANT, START) as stack:
        from revisit.offline.driver import Driver

        boto3.client("s3", region_name="us-east-1").list_buckets()  # the test's own call: nobody's
        Driver(stack).run_until(START + timedelta(days=1, hours=6))
        made = {(call.principal, call.action) for call in recorder.calls}
    assert ("schedule:revisit-demo-nightly-recall-sweep", "states:StartExecution") in made
    assert ("machine:revisit-demo-sweep", "states:StartExecution") in made
    assert ("machine:revisit-demo-sweep", "lambda:InvokeFunction") in made
    assert ("machine:revisit-demo-sweep-clinic", "lambda:InvokeFunction") in made
    assert ("function:revisit-demo-select-due-patients", "dynamodb:Query") in made
    assert not any(action == "s3:ListBuckets" for _, action in made)
