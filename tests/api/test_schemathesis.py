"""Property-based: schemathesis generates requests from docs/openapi.json for every operation; none may get
a server error, a status code the document does not list, or a body that breaks its documented schema. Runs
through the offline gateway (authorizer and API functions in process). `make test` runs 8 cases an operation;
`make fuzz` runs FUZZ_EXAMPLES (70 an operation: over 1,000 cases) and prints the count."""

import io
import os

import schemathesis
from hypothesis import HealthCheck, given, settings
from revisit.api.app import openapi_document
from revisit.api.auth import CredentialStore
from revisit.lambda_runtime import tenant_context
from revisit.offline.gateway import Gateway
from revisit.offline.stack import OfflineStack
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

from tests.conftest import DEMO_TENANT, START, make_patient

STATE: dict = {}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def wsgi(environ, start_response):
    """A WSGI face on the offline gateway (and the OpenAPI document), for schemathesis."""
    path = environ.get("PATH_INFO", "/")
    if path == "/openapi.json":
        body, status, headers = openapi_document(), 200, {"Content-Type": "application/json"}
    else:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        payload = environ["wsgi.input"].read(length).decode() if length else None
        headers_in = {key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers_in["Content-Type"] = environ["CONTENT_TYPE"]
        query = environ.get("QUERY_STRING")
        STATE["calls"] = STATE.get("calls", 0) + 1
        answer = STATE["gateway"].request(environ["REQUEST_METHOD"], path + (f"?{query}" if query else ""),
                                          payload, headers_in)
        body, status, headers = answer.body, answer.status, {"Content-Type": "application/json", **answer.headers}
    start_response(f"{status} X", list(headers.items()))
    return [body.encode()]


def test_no_generated_request_gets_a_server_error_an_undocumented_status_or_an_undocumented_body():
    with OfflineStack(DEMO_TENANT, START) as stack:
        tenant_context().tables.patients.save(make_patient("p-000001"))
        _, token = CredentialStore(stack.tables.credentials).issue("fuzzer", "demo", rate_per_second=10_000)
        STATE["gateway"] = Gateway(stack)
        schema = schemathesis.openapi.from_wsgi("/openapi.json", wsgi)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 11
        for operation in operations:

            @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            @given(case=operation.as_strategy())
            def conforms(case):
                case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

            conforms()
        assert STATE["calls"] > 3 * len(operations)  # it really called the API, many times per operation
        print(f"\nschemathesis: {STATE['calls']} generated cases over {len(operations)} operations, "
              f"{len(CHECKS)} checks each: no failure")


def test_the_wsgi_face_serves_the_document():
    seen = {}
    body = wsgi({"PATH_INFO": "/openapi.json", "REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO()},
                lambda status, headers: seen.update(status=status))
    assert seen["status"].startswith("200") and b'"openapi"' in body[0]
