"""The nightly sweep: R1 selection by index, deterministic starts, and the reports (R11-R14)."""

import json
from datetime import date, timedelta

from revisit.models.entities import RecallItem

from tests.conftest import make_patient


def seed(harness):
    due = [make_patient(f"p-{n:06d}", clinic, language=lang, phone=None, sms_consent=False, email=None)
           for n, (clinic, lang) in enumerate([("boston", "en"), ("madrid", "es"), ("sofia", "bg"),
                                               ("novosibirsk", "ru")])]
    not_due = make_patient("p-000100", recalls=[RecallItem(recall_type="prophy", last_done=date(2026, 11, 1))])
    opted_out = make_patient("p-000101", opted_out=True)
    harness.stack.tables.patients.save_many([*due, not_due, opted_out])
    return due


def run_sweep(harness, name):
    arn = harness.stack.start_execution("sweep", name, {"run_date": "2026-11-24"})
    harness.driver.run_until(harness.stack.clock.now() + timedelta(minutes=2))  # past LetCyclesOpen
    return harness.sfn.describe_execution(executionArn=arn)


def recall_names(harness):
    arn = harness.stack.state_machine_arns["recall"]
    return sorted(e["name"] for e in harness.sfn.list_executions(stateMachineArn=arn)["executions"])


def test_sweep_starts_one_recall_per_due_patient_and_a_rerun_starts_nothing(harness):
    due = seed(harness)
    first = run_sweep(harness, "sweep-1")
    assert first["status"] == "SUCCEEDED"
    expected = sorted(f"recall-{p.patient_id}-20261121" for p in due)
    assert recall_names(harness) == expected
    # Once in a cycle, a patient is off the due index; and a re-run races nothing: same names.
    second = run_sweep(harness, "sweep-2")
    assert second["status"] == "SUCCEEDED"
    assert recall_names(harness) == expected


def test_rerun_before_the_cycles_open_is_caught_by_the_execution_name(harness):
    seed(harness)
    select = harness.stack.lambdas
    # Start the executions by name first, as an interrupted sweep would have.
    for clinic in ("boston",):
        result = json.loads(select.invoke(FunctionName="revisit-demo-select-due-patients", Payload=json.dumps(
            {"execution_name": "t", "clinic_id": clinic, "run_date": "2026-11-24", "horizon_date": "2026-12-08"}
        ).encode())["Payload"].read())
        for recall in result["recalls"]:
            harness.stack.start_execution("recall", recall["name"], recall["input"])
    described = run_sweep(harness, "sweep-3")
    assert described["status"] == "SUCCEEDED"
    assert len(recall_names(harness)) == 4


def test_sweep_writes_reports_counts_alerts_and_emails_the_administrator(harness):
    seed(harness)
    described = run_sweep(harness, "sweep-r")
    output = json.loads(described["output"])
    assert output["upcoming"]["in_recall"] == 4
    assert output["report"]["rows"] == 4
    s3 = harness.stack.client("s3")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=harness.stack.names["bucket"])["Contents"])
    assert keys == [f"reports/recall-daily/2026-11-24.{ext}" for ext in ("csv", "html", "json")]
    csv_text = s3.get_object(Bucket=harness.stack.names["bucket"], Key=keys[0])["Body"].read().decode()
    assert len(csv_text.strip().splitlines()) == 5 and "p-000000" in csv_text
    html = s3.get_object(Bucket=harness.stack.names["bucket"], Key=keys[1])["Body"].read().decode()
    assert "<svg" in html and "Smile Circle Boston" in html
    # Issue 9: the chain's name and a summary first, a section per clinic in its zone; no suggested date
    # before the report's own night; everyone selected tonight is in it, whether or not their cycle opened yet
    assert "Recall report: Smile Circle Dental" in html and "(America/New_York)" in html
    assert html.index("came due tonight") < html.index("Smile Circle Boston <small>")
    report = json.loads(s3.get_object(Bucket=harness.stack.names["bucket"], Key=keys[2])["Body"].read())
    assert report["figures"]["in_recall"] == 4 and all(r["suggested_visit_date"] >= "2026-11-24" for r in report["rows"])
    tasks = harness.ctx.tables.tasks.open_queue("boston", "lead_dentist")
    assert [t.title for t in tasks] == ["Review 1 pending recall cases"]
    # the next night's review replaces it: one review in the queue, not one a night
    harness.stack.start_execution("sweep", "sweep-next", {"run_date": "2026-11-25"})
    harness.driver.run_until(harness.stack.clock.now() + timedelta(minutes=2))
    assert [t.task_id for t in harness.ctx.tables.tasks.open_queue("boston", "lead_dentist")] == [
        "lead_dentist_review-boston-20261125"]
    subjects = [m.subject for m in harness.emails(patients_only=False)]
    assert any("recall summary" in s.lower() for s in subjects)
    # Re-running the night sends the administrator nothing new.
    before = len(harness.emails(patients_only=False))
    run_sweep(harness, "sweep-r2")
    assert len(harness.emails(patients_only=False)) == before


def test_a_backlog_is_swept_a_page_per_execution_and_spread_over_nights_oldest_first(tmp_path):
    """Each page is an execution of its own, so no history grows with the night; past the clinic's nightly
    capacity the rest waits on the due index, oldest due first, and every patient is started exactly once."""
    import yaml
    from revisit.offline.driver import Driver
    from revisit.offline.stack import OfflineStack

    from tests.conftest import DEMO_TENANT, START

    tenant = yaml.safe_load(DEMO_TENANT.read_text())
    tenant["sweep"] = {**tenant.get("sweep", {}), "page_size": 4, "max_recalls_per_clinic_per_night": 7}
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(tenant, allow_unicode=True))
    with OfflineStack(tmp_path / "small.yaml", START) as stack:
        backlog = [make_patient(f"p-{n:06d}", recalls=[RecallItem(recall_type="prophy", last_done=date(2026, 5, n + 1))])
                   for n in range(19)]  # due 2 to 20 November
        stack.tables.patients.save_many(backlog)
        sfn, driver = stack.client("stepfunctions"), Driver(stack)

        def started():
            return sorted(e["name"] for e in sfn.list_executions(
                stateMachineArn=stack.state_machine_arns["recall"], maxResults=1000)["executions"])

        nights = []
        for night in ("2026-11-24", "2026-11-25", "2026-11-26"):
            arn = stack.start_execution("sweep", f"sweep-{night}", {"run_date": night})
            driver.run_until(stack.clock.now() + timedelta(minutes=2))
            assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
            nights.append(started())
        assert [len(n) for n in nights] == [7, 14, 19]  # never more than the capacity, nothing dropped
        assert nights[0] == [f"recall-p-{n:06d}-202611{n + 2:02d}" for n in range(7)]  # the oldest due first
        pages = sfn.list_executions(stateMachineArn=stack.state_machine_arns["sweep_clinic"],
                                    maxResults=1000)["executions"]
        boston_pages = sorted(e["name"] for e in pages if e["name"].startswith("sweep-boston-20261124"))
        assert [name.split("-")[3] for name in boston_pages] == ["p1", "p2"]
        assert all(e["status"] == "SUCCEEDED" for e in pages)
        largest = max(len(sfn.get_execution_history(executionArn=e["executionArn"], maxResults=1000)["events"])
                      for e in pages)
        assert largest < 4 * 9 + 30  # bounded by the page size, whatever the backlog


def test_the_30_day_count_is_exactly_who_falls_due_and_the_administrator_reads_it(harness):
    """R13 and R14 on their own: tonight's run date is 2026-11-24, the lead window 14 days, the count 30 days.
    Due on 2026-12-15 and 2026-12-20 (in 21 and 26 days): counted, not yet in a cycle. Due on 2027-01-05 (in
    42 days): not counted. The four due tonight are in a cycle by the count."""
    seed(harness)
    soon = [make_patient(f"p-00020{n}", recalls=[RecallItem(recall_type="prophy", last_done=last)])
            for n, last in enumerate([date(2026, 6, 14), date(2026, 6, 19)])]
    later = make_patient("p-000300", recalls=[RecallItem(recall_type="prophy", last_done=date(2026, 7, 4))])
    harness.stack.tables.patients.save_many([*soon, later])
    output = json.loads(run_sweep(harness, "sweep-count")["output"])
    assert output["upcoming"] == {"due_next_30_days": 2, "in_recall": 4}
    [summary] = [m for m in harness.emails(patients_only=False) if "recall summary" in m.subject.lower()]
    body = summary.body if hasattr(summary, "body") else ""
    assert "in the next 30 days: 2" in body and "active recall cycle: 4" in body
