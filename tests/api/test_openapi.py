import json
import re
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


def test_a_request_finds_its_route_among_the_modules_its_first_segment_names():
    """The API imports route modules by a path's first segment (issue 14): every route must be reachable so."""
    import importlib

    from revisit.api.app import FAMILIES_BY_SEGMENT, ROUTE_MODULES, resolver_for

    for family, module in ROUTE_MODULES.items():
        for rule, *_ in importlib.import_module(module).router._routes:
            segment = rule.strip("/").split("/", 1)[0]
            assert family in FAMILIES_BY_SEGMENT.get(segment, ()), (family, rule)
    assert {s for families in FAMILIES_BY_SEGMENT.values() for s in families} == set(ROUTE_MODULES)
    routes = resolver_for("/")._static_routes + resolver_for("/")._dynamic_routes
    for route in routes:  # included in any order, no two routes may answer the same request
        concrete = re.sub(r"<\w+>", "x1", route.path)
        rivals = [r for r in routes if r is not route and r.method == route.method and r.rule.fullmatch(concrete)]
        assert not rivals, (route.method, concrete)


def test_a_cold_start_for_a_patients_link_or_a_health_check_builds_no_integrator_route():
    import subprocess
    import sys

    code = ("import sys\nfrom revisit.api.app import resolver_for\nresolver_for('/health')\n"
            "print(sorted(m for m in sys.modules if m.startswith('revisit.api.routes.') or m == 'revisit.api.staff'))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "shared")}).stdout
    assert loaded.strip() == "[]"


def test_first_requests_for_different_families_at_once_lose_no_route():
    """`revisit serve` answers on threads (its /openapi.json beside the API function's first request)."""
    import subprocess
    import sys

    code = ("import threading\nfrom revisit.api import app\n"
            "paths = ['/patients/p1', '/clinics/c1/tasks', '/', '/staff/me', '/orders', '/claims/c1'] * 3\n"
            "barrier = threading.Barrier(len(paths))\n"
            "def first(path):\n    barrier.wait(); app.resolver_for(path)\n"
            "threads = [threading.Thread(target=first, args=(p,)) for p in paths]\n"
            "[t.start() for t in threads]; [t.join() for t in threads]\n"
            "routes = app.resolver_for('/')._static_routes + app.resolver_for('/')._dynamic_routes\n"
            "print(len({(r.method, r.path) for r in routes}), len(routes))")
    from revisit.api.app import resolver_for

    every = {(r.method, r.path) for r in resolver_for("/")._static_routes + resolver_for("/")._dynamic_routes}
    for _ in range(3):
        seen = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "shared")}).stdout.split()
        assert seen == [str(len(every)), str(len(every))]
