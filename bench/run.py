"""`make bench`: figures from one run, printed as ratios.

1. Selection (R1): seed N patients into DynamoDB Local, run the nightly selection for every clinic through
   the real handler, and report items read ÷ patients due (goal ≤ 1.05) and the time ratio between the two
   sizes (goal ≤ 11 for 10× the patients: linear in what is due, not in the table). DynamoDB Local, not moto:
   moto answers an index Query by walking the whole table, which would measure moto.
2. The whole recall path: patients per second from sweep to the end of the ladder, offline.
3. Cold start: each handler's import in a fresh process against a bare `import boto3` (median of 9; the goal
   is at most 1.6x, issue 14).
"""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

from revisit import lambda_runtime
from revisit.adapters import dynamo_keys
from revisit.adapters.dynamo import TenantTables
from revisit.config import load_tenant
from revisit.offline.dynamodb_local import dynamodb_local, local_resource
from revisit.offline.lambda_dispatch import LambdaContext, load_handler
from revisit.offline.stack import ROOT, OfflineStack
from revisit.offline.synthetic import generate

TENANT = ROOT / "tenants" / "demo.yaml"
SEED_THREADS = 4
START = __import__("revisit.offline.demo", fromlist=["DEFAULT_START"]).DEFAULT_START


def selection(patients: int, endpoint: str) -> dict:
    """Seeds a fresh table on DynamoDB Local (its indexes are real indexes, so the timing means something)
    and runs the real select_due_patients handler against it for every clinic."""
    config = load_tenant(TENANT)
    table_name = f"revisit-bench-{patients}"
    resource = local_resource(endpoint)
    resource.meta.client.create_table(**dynamo_keys.table_definition(table_name))
    tables = TenantTables(resource.Table(table_name), config)
    people, _ = generate(config, patients, START.date(), seed=11)
    seeding = time.perf_counter()
    chunks = [people[i::SEED_THREADS] for i in range(SEED_THREADS)]
    with ThreadPoolExecutor(SEED_THREADS) as pool:  # a resource per thread: boto3 resources are not shared
        list(pool.map(lambda chunk: TenantTables(local_resource(endpoint).Table(table_name), config)
                      .patients.save_many(chunk), chunks))
    seeded_in = time.perf_counter() - seeding
    run_date = START.date()
    horizon = run_date + timedelta(days=config.sweep.lead_days)
    expected_due = 0
    for person in people:
        attributes = tables.patients.due_attributes(person)
        if "due_pk" in attributes and date.fromisoformat(attributes["recall_due_date"]) <= horizon:
            expected_due += 1

    environment = {"TENANT_ID": config.tenant_id, "TABLE_NAME": table_name, "REPORTS_BUCKET": "unused",
                   "TENANT_CONFIG_PATH": str(TENANT), "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
                   "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                   "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_TRACE_DISABLED": "true",
                   "POWERTOOLS_METRICS_DISABLED": "true"}
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    lambda_runtime.apply_logging_environment()
    lambda_runtime.reset_contexts()
    handler = load_handler(ROOT / "functions" / "select_due_patients" / "handler.py", "bench_select_due")
    started = time.perf_counter()
    read = selected = 0
    for clinic in config.clinics:
        token = None
        while True:
            payload = {"execution_name": "bench", "clinic_id": clinic.clinic_id, "run_date": run_date.isoformat(),
                       "horizon_date": horizon.isoformat(), "page_token": token}
            result = handler(payload, LambdaContext("select-due-patients", "arn:bench", "bench"))
            read += result["items_read"]
            selected += len(result["recalls"])
            token = result["next_page_token"]
            if not token:
                break
    elapsed = time.perf_counter() - started
    resource.meta.client.delete_table(TableName=table_name)
    for name, value in saved.items():
        os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)
    lambda_runtime.reset_contexts()
    assert selected == expected_due, (selected, expected_due)
    return {"patients": patients, "due": selected, "items_read": read, "seconds": elapsed, "seeded_in": seeded_in}


def whole_path(patients: int) -> dict:
    from revisit.offline.demo import DemoOptions, run_demo

    out = ROOT / "out" / "bench" / str(patients)
    started = time.perf_counter()
    summary = run_demo(DemoOptions(out=out, patients=patients, days=42), progress=lambda _: None)
    elapsed = time.perf_counter() - started
    return {"patients": patients, "cycles": summary["due_cycles_opened"], "seconds": elapsed,
            "transitions": summary["state_transitions"], **summary["recall_cycle_cost"]}


def availability_search(providers: int = 10, appointments: int = 500, searches: int = 40) -> dict:
    """One clinic-week: `providers` providers with `appointments` booked, searched through the offline
    API (gateway, authorizer, API function, moto). Latency percentiles and DynamoDB items read."""
    import gc
    import random
    import statistics
    import tempfile
    from datetime import datetime
    from datetime import time as clock_time
    from zoneinfo import ZoneInfo

    from revisit.api.auth import CredentialStore
    from revisit.models.entities import Appointment
    from revisit.models.tenant import Provider, WorkingHours
    from revisit.offline.gateway import Gateway
    from revisit.services.booking import availability

    base = load_tenant(TENANT)
    staff = [Provider(provider_id=f"boston-p{n:02d}", clinic_id="boston", name=f"Provider {n}",
                      appointment_types=["recall"], hours=[WorkingHours(weekday=d, start=clock_time(8), end=clock_time(18))
                                                           for d in range(5)]) for n in range(providers)]
    config = base.model_copy(update={"providers": staff})
    with tempfile.TemporaryDirectory() as folder:
        tenant_file = Path(folder) / "bench.json"
        tenant_file.write_text(config.model_dump_json())
        with OfflineStack(tenant_file, START) as stack:
            ctx = lambda_runtime.tenant_context()
            zone = ZoneInfo("America/New_York")
            week = [date(2026, 11, 30) + timedelta(days=d) for d in range(5)]
            people, _ = generate(stack.config, appointments, START.date(), seed=3)
            stack.tables.patients.save_many(people)
            rng, booked, n = random.Random(5), 0, 0
            while booked < appointments:
                provider = staff[n % providers]
                n += 1
                day = week[rng.randrange(5)]
                starts = datetime.combine(day, clock_time(8), tzinfo=zone) + timedelta(minutes=15 * rng.randrange(37))
                try:
                    ctx.tables.appointments.book(Appointment(
                        appointment_id=f"a-{n}", patient_id=people[booked].patient_id, clinic_id="boston",
                        appointment_type="recall", provider_id=provider.provider_id, starts_at=starts,
                        ends_at=starts + timedelta(minutes=45), created_at=START))
                    booked += 1
                except Exception:
                    continue  # that slot was taken: try another
            _, token = CredentialStore(stack.tables.credentials).issue("bench", stack.config.tenant_id, rate_per_second=100_000)
            gateway = Gateway(stack)
            gc.collect()
            gc.freeze()  # what `revisit serve` does after start-up: the seeded heap is not rescanned per search
            url = "/clinics/boston/availability?appointment_type=recall&from=2026-11-30&to=2026-12-04"
            latencies = []
            for _ in range(searches):
                started = time.perf_counter()
                answer = gateway.request("GET", url, headers={"Authorization": f"Bearer {token}"})
                latencies.append(time.perf_counter() - started)
                assert answer.status == 200, answer.body
            found = availability(ctx, "boston", "recall", week[0], week[-1])
    latencies.sort()
    return {"p50_ms": statistics.median(latencies) * 1000, "p95_ms": latencies[int(0.95 * (len(latencies) - 1))] * 1000,
            "items_read": found.items_read, "slots": len(found.slots), "appointments": appointments,
            "providers": providers}


COLD_RUNS = 9


def cold_imports() -> tuple[float, dict[str, float], dict[str, float]]:
    """Median seconds of a fresh process importing boto3, and of one importing each handler as Lambda does: from
    the layer's package with its bytecode (layers/build_layer.py compiles it; /opt is read-only, so without it
    every cold start compiles) and with the environment variable Lambda sets."""
    import importlib.util
    import statistics
    import subprocess
    import tempfile

    from revisit.topology import TOPOLOGY, function_environment

    spec = importlib.util.spec_from_file_location("build_layer", ROOT / "layers" / "build_layer.py")
    layer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(layer)
    with tempfile.TemporaryDirectory() as opt:
        layer.compile_bytecode(layer.copy_package(Path(opt)))
        tenant_file = Path(opt) / "tenant.json"  # as the stack ships it: JSON
        tenant_file.write_text(load_tenant(TENANT).model_dump_json())
        config = load_tenant(TENANT)
        env = {**function_environment(config.tenant_id, "table", "bucket", str(tenant_file)),
               "AWS_DEFAULT_REGION": "us-east-1",
               "PATH": os.environ.get("PATH", ""), "PYTHONPATH": opt, "PYTHONDONTWRITEBYTECODE": "1",
               "AWS_LAMBDA_FUNCTION_NAME": "bench"}

        def median_of(code: str) -> float:
            times = []
            for _ in range(COLD_RUNS):
                began = time.perf_counter()
                subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)
                times.append(time.perf_counter() - began)
            return statistics.median(times)

        def importing(folder: str) -> str:
            return ("import importlib.util as u\n"
                    f"s = u.spec_from_file_location('h', {str(TOPOLOGY.handler_path(folder))!r})\n"
                    "s.loader.exec_module(u.module_from_spec(s))\n")

        bare = median_of("import boto3")
        handlers = {folder: median_of(importing(folder)) for folder in sorted(TOPOLOGY.functions)}
        # What the first invocation adds before its own work: the tenant file validated, the clients made.
        first_calls = {folder: median_of(importing(folder) + "from revisit import lambda_runtime\n"
                                         "lambda_runtime.end_of_init(); lambda_runtime.tenant_context()")
                       for folder in sorted(TOPOLOGY.functions)}
    return bare, handlers, first_calls


def main() -> int:
    small_n, large_n = (int(a) for a in sys.argv[1:3]) if len(sys.argv) > 2 else (10_000, 100_000)
    with dynamodb_local() as endpoint:
        small, large = selection(small_n, endpoint), selection(large_n, endpoint)
    print("selection (R1) on DynamoDB Local, through the real select_due_patients handler:")
    for run in (small, large):
        print(f"  {run['patients']:>7} patients: {run['due']:>6} due, {run['items_read']:>6} items read, "
              f"{run['seconds']:.3f}s (seeded in {run['seeded_in']:.0f}s)")
    print(f"items read / patients due: {small['items_read'] / small['due']:.3f} and "
          f"{large['items_read'] / large['due']:.3f} (goal <= 1.05)")
    print(f"time ratio {large_n}/{small_n} patients: {large['seconds'] / small['seconds']:.2f} "
          f"(goal <= {1.1 * large_n / small_n:.0f}, linear)")
    search = availability_search()
    print(f"availability, one clinic-week, {search['providers']} providers, {search['appointments']} appointments, "
          f"through the offline API: p50 {search['p50_ms']:.0f} ms, p95 {search['p95_ms']:.0f} ms, "
          f"{search['items_read']} DynamoDB items read per search, {search['slots']} free slots")
    bare, handlers, first_calls = cold_imports()
    ratios = {folder: seconds / bare for folder, seconds in handlers.items()}
    print(f"cold import, median of {COLD_RUNS} fresh processes: bare boto3 {bare * 1000:.0f} ms; handlers "
          f"{min(ratios.values()):.2f}x to {max(ratios.values()):.2f}x (goal <= 1.6x); then with the first "
          "invocation's tenant context (the tenant file validated, the clients made):")
    for folder, ratio in sorted(ratios.items(), key=lambda item: -item[1]):
        print(f"  {folder:<26} {handlers[folder] * 1000:>5.0f} ms  {ratio:.2f}x   "
              f"{first_calls[folder] * 1000:>5.0f} ms  {first_calls[folder] / bare:.2f}x")
    small_demo, large_demo = (int(a) for a in sys.argv[3:5]) if len(sys.argv) > 4 else (500, 5000)
    runs = [whole_path(small_demo), whole_path(large_demo)]
    print("the demo offline (42 nights, every workflow), one process:")
    for run in runs:
        print(f"  {run['patients']:>6} patients: {run['seconds']:.0f} s, {run['cycles']} recall cycles, "
              f"{run['transitions_per_cycle']} transitions and {run['invocations_per_cycle']} invocations per recall "
              f"cycle (the sweep's share included; goal <= 12 and <= 4)")
    print(f"demo time ratio {large_demo}/{small_demo} patients: {runs[1]['seconds'] / runs[0]['seconds']:.1f} "
          f"(goal <= {1.1 * large_demo / small_demo:.0f}; linear is {large_demo / small_demo:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
