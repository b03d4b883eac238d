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
