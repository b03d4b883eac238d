"""`make demo` in miniature: the outputs an ops engineer and a clinic read are there and well formed."""

import json

from revisit.offline.demo import DemoOptions, run_demo


def test_a_small_demo_writes_reports_outbox_summary_and_readable_executions(tmp_path):
    summary = run_demo(DemoOptions(out=tmp_path, patients=60, days=10), progress=lambda _: None)
    assert summary["lambda_errors"] == {}
    assert set(summary["executions"]["recall"]) <= {"RUNNING", "SUCCEEDED", "FAILED", "ABORTED"}
    lines = [json.loads(line) for line in (tmp_path / "executions.jsonl").read_text().splitlines()]
    assert lines and {line["status"] for line in lines} <= {"RUNNING", "SUCCEEDED", "FAILED", "ABORTED"}
    assert all(line["events"][0]["type"] == "ExecutionStarted" for line in lines)
    assert list((tmp_path / "reports" / "recall-daily").glob("*.html"))
    assert (tmp_path / "outbox.html").read_text().startswith("<!doctype html>")
    assert "| patients | 60 |" in (tmp_path / "summary.md").read_text()


def test_a_demo_long_enough_closes_the_loop_completed_visits_are_recalled_later_missed_ones_again(tmp_path):
    """X1 in the demo: booked visits are completed (their next recall months later), missed or cancelled
    (the patient back in recall rebook_after_days later: a second cycle within the run)."""
    summary = run_demo(DemoOptions(out=tmp_path, patients=150, days=35), progress=lambda _: None)
    actions = summary["simulated_actions"]
    assert actions["visit completed"] > 0 and actions.get("visit missed (no-show)", 0) + actions.get(
        "visit cancelled by the patient", 0) > 0
    done = summary["completed_visits_next_due"]
    # the six-month recall of a visit done in the run falls in May or June (a type not yet due keeps its date)
    # a patient may complete two visits in the run (a recall visit and an ordered control): counted once
    assert 0 < done["visits"] <= actions["visit completed"] and done["latest"] >= "2027-05-01"
    assert summary["patients_recalled_again"] > 0
    assert "| patients recalled again |" in (tmp_path / "summary.md").read_text()
