"""`make bench`: figures from one run, printed as ratios.

1. Selection (R1): seed N patients offline, run the nightly selection for every clinic through the real
   handler, and report items read ÷ patients due (goal ≤ 1.05) and the time ratio between the two sizes
   (goal ≤ 11 for 10× the patients: linear in what is due, not in the table).
2. The whole recall path: patients per second from sweep to the end of the ladder, offline.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date, timedelta

from revisit.offline.stack import ROOT, OfflineStack
from revisit.offline.synthetic import generate

TENANT = ROOT / "tenants" / "demo.yaml"
START = __import__("revisit.offline.demo", fromlist=["DEFAULT_START"]).DEFAULT_START


def selection(patients: int) -> dict:
    with OfflineStack(TENANT, START) as stack:
        people, _ = generate(stack.config, patients, START.date(), seed=11)
        stack.tables.patients.save_many(people)
        run_date = START.date()
        horizon = run_date + timedelta(days=stack.config.sweep.lead_days)
        expected_due = sum(1 for p in people if "due_pk" in stack.tables.patients.due_attributes(p)
                           and date.fromisoformat(stack.tables.patients.due_attributes(p)["recall_due_date"]) <= horizon)
        started = time.perf_counter()
        read = selected = 0
        for clinic in stack.config.clinics:
            token = None
            while True:
                payload = {"execution_name": "bench", "clinic_id": clinic.clinic_id, "run_date": run_date.isoformat(),
                           "horizon_date": horizon.isoformat(), "page_token": token}
                result = json.loads(stack.lambdas.invoke(FunctionName="revisit-demo-select-due-patients",
                                                         Payload=json.dumps(payload).encode())["Payload"].read())
                read += result["items_read"]
                selected += len(result["recalls"])
                token = result["next_page_token"]
                if not token:
                    break
        elapsed = time.perf_counter() - started
    assert selected == expected_due, (selected, expected_due)
    return {"patients": patients, "due": selected, "items_read": read, "seconds": elapsed}


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
    small, large = selection(small_n), selection(large_n)
    for run in (small, large):
        print(f"selection  {run['patients']:>7} patients: {run['due']:>6} due, {run['items_read']:>6} items read, "
              f"{run['seconds']:.3f}s")
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
