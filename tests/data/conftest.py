import itertools
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws
from revisit.adapters import dynamo_keys
from revisit.adapters.dynamo import TenantTables
from revisit.offline import seams
from revisit.offline.dynamodb_local import dynamodb_local, local_resource, skip_reason
from revisit.offline.lambda_dispatch import InProcessLambda
from revisit.offline.virtual_time import VirtualClock

from tests.fakes import FakeTables

_names = itertools.count()


@pytest.fixture(scope="session")
def local_endpoint():
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    with dynamodb_local() as endpoint:
        yield endpoint


@pytest.fixture(params=["memory", "moto", "moto-offline", "dynamodb-local"])
def tables(request, tenant, monkeypatch):
    """The tenant's repositories over a fresh table, on each engine, and the in-memory fakes the service
    tests use: one contract for all of them. `moto-offline` is moto with the offline stack's speed seams
    (revisit.offline.seams: index buckets, item calls answered in process...), which must not change an answer."""
    name = f"revisit-test-{next(_names)}"
    if request.param == "memory":
        yield FakeTables(tenant)
    elif request.param in ("moto", "moto-offline"):
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        if request.param == "moto-offline":
            seams.install(VirtualClock(datetime(2026, 11, 2, tzinfo=UTC)), InProcessLambda("us-east-1", "123456789012"))
        try:
            with mock_aws():
                resource = boto3.resource("dynamodb", region_name="us-east-1")
                resource.meta.client.create_table(**dynamo_keys.table_definition(name))
                yield TenantTables(resource.Table(name), tenant)
        finally:
            seams.uninstall()
    else:
        resource = local_resource(request.getfixturevalue("local_endpoint"))
        resource.meta.client.create_table(**dynamo_keys.table_definition(name))
        yield TenantTables(resource.Table(name), tenant)
        resource.meta.client.delete_table(TableName=name)
