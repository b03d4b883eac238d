import json
from pathlib import Path

from revisit.api.app import openapi_document

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_committed_openapi_document_matches_the_code():
    generated = json.loads(openapi_document())
    assert json.loads(COMMITTED.read_text()) == generated, (
        "docs/openapi.json is stale: regenerate it with `.venv/bin/revisit openapi > docs/openapi.json`")


def test_every_route_is_documented_with_its_errors_shape():
    paths = json.loads(COMMITTED.read_text())["paths"]
    assert {"/health", "/patients", "/patients/{patient_id}", "/clinics/{clinic_id}/availability", "/appointments",
            "/clinics/{clinic_id}/tasks", "/tasks/{task_id}/call-outcome"} <= set(paths)
    assert "Idempotency-Key" in json.dumps(paths["/appointments"])


def test_every_operation_documents_its_success_body_and_its_errors():
    paths = json.loads(COMMITTED.read_text())["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            successes = {code: answer for code, answer in operation["responses"].items() if code.startswith("2")}
            assert successes and all("content" in answer for answer in successes.values()), (method, path)
            if path != "/health":
                assert {"401", "403", "404", "422", "429", "503"} <= set(operation["responses"]), (method, path)
                problem = operation["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
                assert problem.endswith("/Problem")
