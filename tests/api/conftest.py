import pytest
from revisit.api.auth import CredentialStore
from revisit.lambda_runtime import tenant_context
from revisit.offline.gateway import Gateway
from revisit.offline.stack import OfflineStack

from tests.conftest import DEMO_TENANT, START, make_patient


class Api:
    def __init__(self, stack: OfflineStack):
        self.stack = stack
        self.ctx = tenant_context()
        self.gateway = Gateway(stack)
        store = CredentialStore(stack.tables.credentials)
        self.integrator, self.token = store.issue("clinic-website", stack.config.tenant_id, rate_per_second=1000)
        _, self.other_tenant_token = store.issue("elsewhere", "north", rate_per_second=1000)

    def call(self, method, url, body=None, token="default", headers=None):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {self.token if token == 'default' else token}"
        return self.gateway.request(method, url, body, headers)


@pytest.fixture
def api():
    with OfflineStack(DEMO_TENANT, START) as stack:
        client = Api(stack)
        client.ctx.tables.patients.save(make_patient("p-000001"))
        yield client
