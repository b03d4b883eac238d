"""The Recall state machine, executed end to end on moto's interpreter with the real handlers, every branch."""

from datetime import UTC, datetime, timedelta

from revisit.lambda_runtime import tenant_context
from revisit.models.entities import AttemptOutcome, CycleStatus, RecallStatus, TaskKind
from revisit.services import booking, patient_actions

from tests.conftest import make_patient


def save(harness, patient):
    harness.stack.tables.patients.save(patient)
    return patient


def test_no_response_walks_the_whole_ladder_into_manual_review(harness):
    patient = save(harness, make_patient())
    arn = harness.start_recall(patient)
    described = harness.finish(arn)
    assert described["status"] == "SUCCEEDED"
    states = harness.states(arn)
    assert states[:3] == ["OpenRecall", "WaitForNextRung", "ContactPatient"]
    assert states[-1] == "LadderFinished"
    attempts = {a.step: a for a in harness.ctx.tables.attempts.for_patient(patient.patient_id)}
    assert [attempts[s].outcome for s in ("sms-1", "email-1", "call-1", "review", "admin")] == [
        AttemptOutcome.SENT, AttemptOutcome.SENT, AttemptOutcome.TASK_CREATED, AttemptOutcome.TASK_CREATED,
        AttemptOutcome.TASK_CREATED]
    # One SMS, one email; the email came a week after the SMS, both inside Boston's send window.
    assert len(harness.sms()) == 1 and len(harness.emails()) == 1
    assert attempts["email-1"].at - attempts["sms-1"].at >= timedelta(days=7)
    for step in ("sms-1", "email-1"):
        local = attempts[step].at.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
        assert 9 <= local.hour < 20
    assert attempts["sms-1"].sms_segments == 1
    cycle = harness.ctx.tables.cycles.get(patient.patient_id, "2026-11-30")
    assert cycle.status == CycleStatus.MANUAL_REVIEW and (cycle.attempts, cycle.staff_tasks) == (2, 3)
    assert cycle.eligibility is not None and cycle.suggested_visit_date is not None
    assert harness.ctx.tables.patients.get(patient.patient_id).recall_status == RecallStatus.MANUAL_REVIEW
    kinds = {t.kind for role in ("front_desk", "hygienist", "office_admin")
             for t in harness.ctx.tables.tasks.open_queue("boston", role)}
    assert kinds == {TaskKind.RECALL, TaskKind.CHART_REVIEW, TaskKind.RECALL_CALL, TaskKind.MANUAL_REVIEW,
                     TaskKind.ADMIN_FOLLOW_UP}


def test_booking_after_the_sms_stops_the_ladder(harness):
    patient = save(harness, make_patient())
    arn = harness.start_recall(patient)
    harness.advance(2)
    assert len(harness.sms()) == 1
    # R23: booked as an integrator or the front desk books, through the booking service (slot locks, notices)
    booking.book(tenant_context(), booking.BookingRequest(patient.patient_id, "boston", "recall", "boston-hyg-1",
                                                          datetime(2026, 12, 4, 14, 0, tzinfo=UTC)), "front-desk")
    # at once, not when the ladder next wakes: the cycle is Booked and its front-desk work cancelled
    assert harness.ctx.tables.cycles.get(patient.patient_id, "2026-11-30").status == CycleStatus.BOOKED
    assert harness.ctx.tables.tasks.open_queue("boston", "front_desk") == []
    assert [t.kind for t in harness.ctx.tables.tasks.open_queue("boston", "hygienist")] == [TaskKind.CHART_REVIEW]
    described = harness.finish(arn)
    assert described["status"] == "SUCCEEDED"
    assert harness.states(arn)[-1] == "CycleClosed"
    assert len([m for m in harness.emails() if "recall" in str(getattr(m, "subject", "")).lower()]) == 0
    assert harness.ctx.tables.cycles.get(patient.patient_id, "2026-11-30").status == CycleStatus.BOOKED
    # R23: the cycle's open front-desk work is cancelled with it
    assert harness.ctx.tables.tasks.open_queue("boston", "front_desk") == []


def test_decline_and_opt_out_stop_the_ladder(harness):
    decliner = save(harness, make_patient("p-000002"))
    quitter = save(harness, make_patient("p-000003"))
    arns = [harness.start_recall(decliner), harness.start_recall(quitter)]
    harness.advance(1)
    patient_actions.decline_recall(tenant_context(), decliner.patient_id, "moved-away")
    patient_actions.opt_out(tenant_context(), quitter.patient_id)
    for arn in arns:
        assert harness.finish(arn)["status"] == "SUCCEEDED"
        assert harness.states(arn)[-1] == "CycleClosed"
    assert harness.ctx.tables.cycles.get(decliner.patient_id, "2026-11-30").status == CycleStatus.DECLINED
    assert harness.ctx.tables.cycles.get(quitter.patient_id, "2026-11-30").status == CycleStatus.OPTED_OUT
    assert len(harness.sms()) == 2 and len(harness.emails()) == 0


def test_opted_out_patient_is_never_contacted(harness):
    patient = save(harness, make_patient(opted_out=True))
    arn = harness.start_recall(patient)
    assert harness.finish(arn)["status"] == "SUCCEEDED"
    assert harness.states(arn) == ["OpenRecall", "WaitForNextRung", "ContactPatient", "AfterContact", "CycleClosed"]
    assert harness.sms() == [] and harness.emails() == []


def test_a_channel_without_consent_is_skipped_and_the_next_one_goes_at_once(harness):
    patient = save(harness, make_patient(sms_consent=False))
    arn = harness.start_recall(patient)
    harness.advance(1)
    attempts = {a.step: a for a in harness.ctx.tables.attempts.for_patient(patient.patient_id)}
    assert attempts["sms-1"].outcome == AttemptOutcome.SKIPPED_NO_CONSENT
    assert attempts["email-1"].outcome == AttemptOutcome.SENT
    assert harness.sms() == [] and len(harness.emails()) == 1
    harness.finish(arn)


def test_a_missing_patient_fails_the_execution_visibly(harness):
    arn = harness.start_recall(make_patient("p-404404"))
    described = harness.finish(arn)
    assert described["status"] == "FAILED"
    assert described["error"] == "RecallFailed"


def test_a_retried_contact_step_never_sends_twice(harness):
    patient = save(harness, make_patient())
    arn = harness.start_recall(patient)
    harness.advance(1)
    assert len(harness.sms()) == 1
    # Step Functions retries the step (or a duplicate event replays it): same input, again and again.
    request = {"execution_name": "recall-p-000001-20261130", "patient_id": patient.patient_id,
               "cycle_id": "2026-11-30"}
    for _ in range(3):
        harness.stack.lambdas.invoke(FunctionName="revisit-demo-contact-patient",
                                     Payload=__import__("json").dumps(request).encode())
    assert len(harness.sms()) == 1
    harness.finish(arn)
    assert len(harness.sms()) == 1 and len(harness.emails()) == 1


def crash_after_the_send(ctx, channel):
    """The next outcome write for `channel` fails as if the function died after the provider took the message."""
    from revisit.errors import TransientError

    record = ctx.tables.attempts.record

    def record_or_crash(attempt):
        if attempt.channel == channel and attempt.outcome == AttemptOutcome.SENT and not crashed:
            crashed.append(attempt)
            raise TransientError("ProvisionedThroughputExceededException on the outcome's write")
        record(attempt)

    crashed = []
    ctx.tables.attempts.record = record_or_crash
    return crashed


def test_a_send_crashed_mid_way_is_never_resent_and_is_accounted_for(harness):
    from revisit.models.common import Channel

    from tests.fakes import FakeMetrics

    harness.ctx.metrics = FakeMetrics()
    crashed = crash_after_the_send(harness.ctx, Channel.SMS)
    patient = save(harness, make_patient())
    arn = harness.start_recall(patient)
    harness.advance(1)  # the SMS goes, the step fails, Step Functions retries it
    assert crashed and len(harness.sms()) == 1
    attempts = {a.step: a for a in harness.ctx.tables.attempts.for_patient(patient.patient_id)}
    assert attempts["sms-1"].outcome == AttemptOutcome.UNCONFIRMED
    assert harness.ctx.metrics.counts["MessagesNotSent"] == 1
    checks = [t for t in harness.ctx.tables.tasks.open_queue("boston", "front_desk") if t.kind == TaskKind.DELIVERY_CHECK]
    assert [t.patient_id for t in checks] == [patient.patient_id]
    assert harness.finish(arn)["status"] == "SUCCEEDED"
    assert len(harness.sms()) == 1 and len(harness.emails()) == 1  # the ladder went on, nothing twice


def test_the_recall_task_is_the_front_desks_high_priority_and_the_chart_review_the_hygienists(harness):
    """R4, R8: who gets which task, how urgent, due when."""
    patient = save(harness, make_patient())
    harness.start_recall(patient)
    [recall_task] = [t for t in harness.ctx.tables.tasks.open_queue("boston", "front_desk") if t.kind == TaskKind.RECALL]
    assert (recall_task.role, recall_task.priority, recall_task.patient_id) == ("front_desk", "high", patient.patient_id)
    [chart] = harness.ctx.tables.tasks.open_queue("boston", "hygienist")
    assert (chart.kind, chart.priority) == (TaskKind.CHART_REVIEW, "normal")
    assert patient.first_name not in recall_task.title and patient.last_name not in recall_task.title  # ids only


def test_eligibility_is_checked_per_recall_type_due_against_the_stored_policy(harness):
    """R9, X2: a policy that lists what it covers answers for the types due; no policy is 'unknown'."""
    from datetime import date

    from revisit.models.entities import InsurancePolicy, RecallItem
    recalls = [RecallItem(recall_type="prophy", last_done=date(2026, 5, 29)),
               RecallItem(recall_type="bitewings", last_done=date(2025, 12, 1))]
    covered = save(harness, make_patient("p-000011", recalls=recalls, insurance=[InsurancePolicy(
        payer="Delta Dental", member_id="M-1", valid_from=date(2026, 1, 1), covered_recall_types=["prophy"],
        coverage_percent=80)]))
    uncovered = save(harness, make_patient("p-000012", recalls=recalls, insurance=[InsurancePolicy(
        payer="Delta Dental", member_id="M-2", valid_from=date(2026, 1, 1), covered_recall_types=["pano"])]))
    nothing = save(harness, make_patient("p-000013", recalls=recalls))
    for patient in (covered, uncovered, nothing):
        harness.start_recall(patient)
    results = {p.patient_id: harness.ctx.tables.cycles.get(p.patient_id, "2026-11-30").eligibility
               for p in (covered, uncovered, nothing)}
    assert harness.ctx.tables.cycles.get("p-000011", "2026-11-30").recall_types == ["bitewings", "prophy"]
    assert (results["p-000011"].status, results["p-000011"].covered_recall_types,
            results["p-000011"].coverage_percent) == ("active", ["prophy"], 80)
    assert (results["p-000012"].status, results["p-000012"].covered_recall_types) == ("inactive", [])
    assert results["p-000013"].status == "unknown"


def test_a_throttled_send_gives_its_claim_back_and_the_retry_sends_once(harness):
    """The provider throttles the first SMS: the send certainly did not happen, so the claim is deleted
    (the failure path's DeleteItem, which the senders' roles must allow) and Step Functions' retry sends it."""
    from botocore.exceptions import ClientError

    sns = harness.ctx.notifier._inner._sns
    throttled = []

    def throttle_once(**_):
        if not throttled:
            throttled.append(True)
            raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "Publish")

    sns.meta.events.register("before-call.sns.Publish", throttle_once)
    try:
        patient = save(harness, make_patient())
        arn = harness.start_recall(patient)
        harness.advance(1)
        assert throttled and len(harness.sms()) == 1
        attempts = {a.step: a for a in harness.ctx.tables.attempts.for_patient(patient.patient_id)}
        assert attempts["sms-1"].outcome == AttemptOutcome.SENT
        history = harness.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        assert any(e["type"] == "TaskFailed" or e["type"] == "LambdaFunctionFailed" for e in history)
        harness.finish(arn)
        assert len(harness.sms()) == 1
    finally:
        sns.meta.events.unregister("before-call.sns.Publish", throttle_once)


def test_an_eligibility_provider_that_stays_down_is_retried_then_the_ladder_runs_with_coverage_unknown(harness):
    """R9: the coverage check is part of the first step; the step's retries ask the provider again, and on the
    last eligibility try the ladder starts without it (it is checked again before the visit)."""
    from revisit.errors import TransientError

    eligibility, asked = harness.ctx.eligibility, []

    def down(*args, **kwargs):
        asked.append(True)
        raise TransientError("clearinghouse timed out")

    original = eligibility.verify
    eligibility.verify = down
    try:
        patient = save(harness, make_patient())
        arn = harness.start_recall(patient)
        harness.advance(1)
    finally:
        eligibility.verify = original
    assert len(asked) == 3  # ELIGIBILITY_TRIES
    cycle = harness.ctx.tables.cycles.get(patient.patient_id, "2026-11-30")
    assert cycle.eligibility is None and len(harness.sms()) == 1  # the ladder went on
    states = harness.states(arn)
    assert states.count("OpenRecall") == 1 and states[1:3] == ["WaitForNextRung", "ContactPatient"]
    history = harness.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    assert sum(e["type"] in ("TaskFailed", "LambdaFunctionFailed") for e in history) == 2  # two retried tries
    # The front desk's and hygienist's tasks were made once, whatever the tries.
    kinds = [t.kind for role in ("front_desk", "hygienist") for t in harness.ctx.tables.tasks.open_queue("boston", role)]
    assert sorted(kinds) == sorted([TaskKind.RECALL, TaskKind.CHART_REVIEW])
    harness.finish(arn)


def test_a_staff_rung_due_at_once_goes_in_the_same_invocation(harness):
    """Manual review, then the office admin's task the same day: one ContactPatient, not two wake-ups."""
    patient = save(harness, make_patient())
    arn = harness.start_recall(patient)
    harness.finish(arn)
    states = harness.states(arn)
    assert states.count("ContactPatient") == 4  # sms-1, email-1, call-1, review+admin
    attempts = {a.step: a.outcome for a in harness.ctx.tables.attempts.for_patient(patient.patient_id)}
    assert attempts["review"] == attempts["admin"] == AttemptOutcome.TASK_CREATED
