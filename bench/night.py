"""A night with N due patients offline: the real Sweep and SweepClinic machines and handlers, the Recall
machine replaced by one that only succeeds (this measures the fan-out, not the ladder). Reports every
patient started exactly once and the largest execution history (Step Functions' limit: 25,000 events)."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import yaml
from revisit.models.entities import PatientStatus, RecallItem
from revisit.offline.driver import Driver
from revisit.offline.stack import ROOT, OfflineStack
from revisit.offline.synthetic import generate
from revisit.topology import TOPOLOGY, Topology, Workflow

HISTORY_LIMIT = 25_000
ONLY_SUCCEEDS = {"Comment": "Stands in for Recall: measures the sweep's fan-out only", "StartAt": "Started",
                 "States": {"Started": {"Type": "Succeed"}}}


def night(patients: int, per_clinic_cap: int | None = None) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="revisit-night-"))
    tenant = yaml.safe_load((ROOT / "tenants" / "demo.yaml").read_text())
    if per_clinic_cap:
        tenant["sweep"] = {**tenant.get("sweep", {}), "max_recalls_per_clinic_per_night": per_clinic_cap}
    (folder / "tenant.yaml").write_text(yaml.safe_dump(tenant, allow_unicode=True))
    (folder / "recall.asl.json").write_text(json.dumps(ONLY_SUCCEEDS))
    declared = Topology(workflows=tuple(Workflow("recall", steps=(), definition=folder / "recall.asl.json")
                                        if w.name == "recall" else w for w in TOPOLOGY.workflows),
                        entry_points=TOPOLOGY.entry_points)
    start = __import__("revisit.offline.demo", fromlist=["DEFAULT_START"]).DEFAULT_START
    with OfflineStack(folder / "tenant.yaml", start, declared=declared) as stack:
        people, _ = generate(stack.config, patients, start.date(), seed=11)
        due_on = start.date() - timedelta(days=30)
        people = [p.model_copy(update={"recalls": [RecallItem(recall_type="prophy", last_done=due_on - timedelta(
            days=183 + n % 60))], "next_appointment_at": None, "opted_out": False,
            # the synthetic chain hands a share to reactivation (inactive): here every patient is in recall
            "status": PatientStatus.ACTIVE}) for n, p in enumerate(people)]
        stack.tables.patients.save_many(people)
        began = time.monotonic()
        arn = stack.start_execution("sweep", "night-1", {"run_date": start.date().isoformat()})
        Driver(stack).run_until(stack.clock.now() + timedelta(minutes=5))
        seconds = time.monotonic() - began
        sfn = stack.client("stepfunctions")
        status = sfn.describe_execution(executionArn=arn)["status"]
        names: Counter = Counter()
        histories = {}
        for machine in ("recall", "sweep_clinic", "sweep"):
            token = None
            while True:
                page = sfn.list_executions(stateMachineArn=stack.state_machine_arns[machine], maxResults=1000,
                                           **({"nextToken": token} if token else {}))
                for execution in page["executions"]:
                    if machine == "recall":
                        names[execution["name"]] += 1
                    else:
                        histories[execution["name"]] = _history_length(sfn, execution["executionArn"])
                token = page.get("nextToken")
                if not token:
                    break
    largest = max(histories, key=histories.get)
    return {"patients": patients, "status": status, "started": len(names), "started_twice": sum(
        1 for n in names.values() if n > 1), "executions": len(histories),
        "largest_history": histories[largest], "largest": largest, "seconds": seconds}


def _history_length(sfn, arn: str) -> int:
    count, token = 0, None
    while True:
        page = sfn.get_execution_history(executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {}))
        count += len(page["events"])
        token = page.get("nextToken")
        if not token:
            return count


def main() -> int:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 15_000
    result = night(size, per_clinic_cap=size)
    print(f"a night of {result['patients']} due patients: sweep {result['status']}, {result['started']} recalls "
          f"started ({result['started_twice']} twice), "
          f"{result['executions']} sweep executions, largest history {result['largest_history']} events "
          f"({result['largest']}; limit {HISTORY_LIMIT}), {result['seconds']:.0f}s offline")
    return 0 if result["started"] == size and not result["started_twice"] else 1


if __name__ == "__main__":
    sys.exit(main())
