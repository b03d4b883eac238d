"""`make bench`: figures from one run, printed as ratios.

1. Selection (R1): seed N patients into DynamoDB Local, run the nightly selection for every clinic through
   the real handler, and report items read ÷ patients due (goal ≤ 1.05) and the time ratio between the two
   sizes (goal ≤ 11 for 10× the patients: linear in what is due, not in the table). DynamoDB Local, not moto:
   moto answers an index Query by walking the whole table, which would measure moto.
2. The whole recall path: patients per second from sweep to the end of the ladder, offline.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
import time
from datetime import date, timedelta

from revisit import lambda_runtime
from revisit.adapters import dynamo_keys
from revisit.adapters.dynamo import TenantTables
from revisit.config import load_tenant
from revisit.offline.dynamodb_local import dynamodb_local, local_resource
from revisit.offline.lambda_dispatch import LambdaContext, load_handler
from revisit.offline.stack import ROOT
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

    out = ROOT / "out" / "bench"
    started = time.perf_counter()
    summary = run_demo(DemoOptions(out=out, patients=patients, days=42), progress=lambda _: None)
    elapsed = time.perf_counter() - started
    return {"cycles": summary["due_cycles_opened"], "seconds": elapsed,
            "transitions": summary["state_transitions"]}


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
    path = whole_path(int(sys.argv[3]) if len(sys.argv) > 3 else 300)
    print(f"whole recall path offline: {path['cycles']} cycles, {path['transitions']} state transitions in "
          f"{path['seconds']:.1f}s = {path['cycles'] / path['seconds']:.1f} patients/s, "
          f"{path['transitions'] / path['seconds']:.0f} transitions/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
