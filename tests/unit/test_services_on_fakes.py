"""The services over the ports, on in-memory fakes (tests/fakes.py): the recall ladder, booking, the sweep's
steps and SMS replies, in milliseconds. The same services run end to end on moto in tests/workflows and
tests/api; the fakes are held to the adapters' contract in tests/data."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from revisit import clock
from revisit.errors import InvalidRequest, SlotTaken
from revisit.models.common import Channel
from revisit.models.entities import AppointmentStatus, AttemptOutcome, CycleStatus, RecallStatus, TaskKind
from revisit.models.steps.recall import ContactResult, PrepareRecallRequest, RecallRef
from revisit.models.steps.sweep import AdminSummaryRequest, RunDateRequest, SelectDueRequest
from revisit.services import booking, patient_actions, recall, replies, sweep

from tests.conftest import make_patient
from tests.fakes import fake_context

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 10:00 in Boston, inside its send window


@pytest.fixture
def fixed():
    """The one clock, standing still until a test moves it."""
    stopped = clock.FixedClock(NOW)
    previous = clock.use_clock(stopped)
    yield stopped
    clock.use_clock(previous)


@pytest.fixture
def ctx(tenant, fixed):
    return fake_context(tenant)


def open_cycle(ctx, patient_id="p-000001", due=date(2026, 11, 21)):
    ctx.tables.patients.save(make_patient(patient_id))
    prepared = recall.prepare_recall(PrepareRecallRequest(
        execution_name=f"recall-{patient_id}-{due:%Y%m%d}", patient_id=patient_id, clinic_id="boston",
        recall_due_date=due), ctx)
    return prepared, RecallRef(execution_name=f"recall-{patient_id}-{due:%Y%m%d}", patient_id=patient_id,
                               cycle_id=prepared.cycle_id)


def walk(ctx, fixed, ref) -> list[ContactResult]:
    """ContactPatient as the state machine calls it: again at each `next_contact_at` until it ends."""
    results = []
    while not results or results[-1].outcome == "wait":
        result = recall.contact_patient(ref, ctx)
        results.append(result)
        fixed.at = max(fixed.at, datetime.fromisoformat(result.next_contact_at.replace("Z", "+00:00")))
    return results


def test_a_cycle_opens_once_and_takes_the_patient_off_the_due_list(ctx):
    assert ctx.tables.patients.count_due("boston", date(2026, 12, 8)) == 0
    ctx.tables.patients.save(make_patient())
    assert ctx.tables.patients.count_due("boston", date(2026, 12, 8)) == 1
    prepared, _ = open_cycle(ctx)
    again, _ = open_cycle(ctx)
    assert prepared.proceed and again.proceed and again.reason.startswith("cycle already open")
    assert ctx.tables.patients.count_due("boston", date(2026, 12, 8)) == 0
    assert ctx.tables.patients.get("p-000001").recall_status == RecallStatus.PENDING


def test_the_ladder_messages_once_per_rung_then_hands_the_patient_to_staff(ctx, fixed):
    _, ref = open_cycle(ctx)
    results = walk(ctx, fixed, ref)
    # the admin's task is due at once after manual review: the same invocation creates both (issue 14)
    assert [r.channel for r in results if r.channel] == [Channel.SMS, Channel.EMAIL, Channel.CALL_TASK, Channel.ADMIN_TASK]
    assert results[-1].outcome == "finished"
    assert {a.step for a in ctx.tables.attempts.for_patient("p-000001")} == {"sms-1", "email-1", "call-1", "review", "admin"}
    assert len(ctx.notifier.sms) == 1 and len(ctx.notifier.emails) == 1
    assert ctx.metrics.counts["MessagesSent"] == 2
    cycle = ctx.tables.cycles.get("p-000001", ref.cycle_id)
    # two messages reached the patient; three rungs were staff work (counted apart since issue 9)
    assert cycle.status == CycleStatus.MANUAL_REVIEW and (cycle.attempts, cycle.staff_tasks) == (2, 3)
    # X3: the unanswered patient comes back after resurface_after_days (a new cycle then)
    patient = ctx.tables.patients.get("p-000001")
    assert patient.recall_from == fixed.at.date() + timedelta(days=ctx.config.recall.resurface_after_days)
    # re-running any rung afterwards sends nothing more
    recall.contact_patient(ref, ctx)
    assert len(ctx.notifier.sms) == 1 and len(ctx.notifier.emails) == 1


def test_an_opt_out_between_rungs_stops_the_ladder(ctx, fixed):
    _, ref = open_cycle(ctx)
    first = recall.contact_patient(ref, ctx)
    assert first.channel == Channel.SMS
    patient_actions.opt_out(ctx, "p-000001")
    fixed.at = NOW + timedelta(days=8)
    stopped = recall.contact_patient(ref, ctx)
    assert stopped.outcome == "stopped" and ctx.notifier.emails == []
    assert ctx.tables.cycles.get("p-000001", ref.cycle_id).status == CycleStatus.OPTED_OUT


def test_a_booking_is_race_safe_idempotent_and_ends_the_recall(ctx):
    _, ref = open_cycle(ctx)
    request = booking.BookingRequest(patient_id="p-000001", clinic_id="boston", appointment_type="recall",
                                     provider_id="boston-hyg-1", starts_at=datetime(2026, 11, 30, 14, 0, tzinfo=UTC))
    booked = booking.book(ctx, request, "site", "order-1")
    replay = booking.book(ctx, request, "site", "order-1")
    assert not booked.replayed and replay.replayed and replay.appointment == booked.appointment
    with pytest.raises(InvalidRequest) as reused:
        booking.book(ctx, booking.BookingRequest(**{**request.__dict__, "provider_id": "boston-hyg-2"}), "site", "order-1")
    assert reused.value.field == "Idempotency-Key"
    ctx.tables.patients.save(make_patient("p-000002"))
    with pytest.raises(SlotTaken):
        booking.book(ctx, booking.BookingRequest(**{**request.__dict__, "patient_id": "p-000002"}), "site")
    assert ctx.tables.cycles.get("p-000001", ref.cycle_id).status == CycleStatus.BOOKED
    assert [m for m, _ in ctx.workflows.started.values()] == ["appointment"]
    assert [kind for kind, _ in ctx.events.published] == ["AppointmentBooked"]
    cancelled = booking.change_status(ctx, "p-000001", booked.appointment.appointment_id, AppointmentStatus.CANCELLED,
                                      "ill")
    assert cancelled.status == AppointmentStatus.CANCELLED and ctx.workflows.stopped
    assert ctx.tables.patients.get("p-000001").next_appointment_at is None


def test_the_sweep_selects_pages_reports_and_emails_the_administrator_once(ctx):
    ctx.tables.patients.save_many([make_patient(f"p-{n:06d}") for n in range(5)])
    selected = sweep.select_due_patients(SelectDueRequest(
        execution_name="sweep", clinic_id="boston", run_date=date(2026, 11, 24), horizon_date=date(2026, 12, 8),
        page_token=None), ctx)
    assert [r.name for r in selected.recalls][:2] == ["recall-p-000000-20261121", "recall-p-000001-20261121"]
    assert selected.items_read == len(selected.recalls)
    open_cycle(ctx, "p-000000")
    report = sweep.write_recall_report(RunDateRequest(execution_name="sweep", run_date=date(2026, 11, 24)), ctx)
    # Issue 9: the four selected tonight whose cycles have not opened yet are in the night's report too
    assert report.rows == 5 and sorted(k.rsplit(".", 1)[1] for k in ctx.reports.objects) == ["csv", "html", "json"]
    written = json.loads(next(b for k, (b, _) in ctx.reports.objects.items() if k.endswith(".json")))
    assert sorted(r["status"] for r in written["rows"]) == ["Pending recall"] + ["Starting"] * 4
    assert {r["recall_types"] for r in written["rows"]} == {"check-up and cleaning"}  # the types due, by their label
    assert written["chain"] == ctx.config.name and written["figures"]["due_tonight"] == 5
    assert (written["figures"]["opened_this_week"], written["figures"]["booked_this_week"]) == (1, 0)
    patient_actions.decline_recall(ctx, "p-000000", "moved-away")
    booking_week = ctx.tables.daily_counts.week("boston", date(2026, 11, 24))
    assert (booking_week["opened"], booking_week["declined"]) == (1, 1)
    summary = AdminSummaryRequest(execution_name="sweep", run_date=date(2026, 11, 24), due_next_30_days=4,
                                  in_recall=1, report_keys=report.keys)
    assert sweep.email_admin_summary(summary, ctx).sent is True
    assert sweep.email_admin_summary(summary, ctx).sent is False
    assert len(ctx.notifier.emails) == 1


def test_a_stop_reply_withdraws_sms_consent_and_an_unclear_one_is_answered_once(ctx):
    ctx.tables.patients.save(make_patient())
    assert replies.handle_reply(ctx, "+16172223344", "STOP", "m-1").action == "sms consent withdrawn"
    assert ctx.tables.patients.get("p-000001").sms_consent is False
    ctx.tables.patients.save(make_patient())
    replies.handle_reply(ctx, "+16172223344", "what time is it?", "m-2")
    duplicate = replies.handle_reply(ctx, "+16172223344", "what time is it?", "m-2")
    assert duplicate.action.startswith("duplicate delivery")
    assert len(ctx.notifier.sms) == 1
    answers = [a for a in ctx.tables.attempts.for_patient("p-000001") if a.cycle_id == replies.ANSWERS]
    assert [a.outcome for a in answers] == [AttemptOutcome.SENT]
    assert [t.kind for t in ctx.tables.tasks.open_queue("boston", "front_desk")] == [TaskKind.PATIENT_REPLY]


def test_a_change_racing_a_stop_keeps_both(ctx):
    from revisit.services.patients import change_patient

    ctx.tables.patients.save(make_patient())
    raced = []

    def new_email(patient):
        if not raced:  # a STOP lands between this change's read and its write
            raced.append(replies.handle_reply(ctx, "+16172223344", "STOP", "m-1"))
        return patient.model_copy(update={"email": "new@mail.example.com"})

    changed = change_patient(ctx, "p-000001", new_email)
    assert raced[0].action == "sms consent withdrawn"
    assert (changed.email, changed.sms_consent) == ("new@mail.example.com", False)
    assert ctx.tables.patients.get("p-000001") == changed


def test_an_unanswered_patient_resurfaces_until_the_yearly_cap_then_goes_to_reactivation(ctx, fixed):
    """X3: each ladder that reaches no booking brings the patient back resurface_after_days later; the cycle
    left open ends 'Unanswered' when the next one opens; past max_cycles_per_year the patient is Inactive."""
    from revisit.models.entities import PatientStatus
    ctx.tables.patients.save(make_patient())
    cap = ctx.config.recall.max_cycles_per_year
    opened = []
    for _ in range(cap):
        patient = ctx.tables.patients.get("p-000001")
        due = date.fromisoformat(ctx.tables.patients.due_page("boston", date(2030, 1, 1), 10, None)[0][0]["recall_due_date"])
        fixed.at = max(fixed.at, datetime.combine(due, datetime.min.time(), tzinfo=UTC) + timedelta(hours=15))
        prepared = recall.prepare_recall(PrepareRecallRequest(
            execution_name=f"recall-{due}", patient_id="p-000001", clinic_id="boston", recall_due_date=due), ctx)
        opened.append(prepared.cycle_id)
        walk(ctx, fixed, RecallRef(execution_name=f"recall-{due}", patient_id="p-000001", cycle_id=prepared.cycle_id))
        patient = ctx.tables.patients.get("p-000001")
    assert len(set(opened)) == cap
    statuses = [ctx.tables.cycles.get("p-000001", c).status for c in opened]
    assert statuses == [CycleStatus.UNANSWERED] * (cap - 1) + [CycleStatus.MANUAL_REVIEW]
    assert patient.status == PatientStatus.INACTIVE  # handed to reactivation: off the due list
    assert ctx.tables.patients.count_due("boston", date(2030, 1, 1)) == 0


def test_the_suggested_visit_is_the_first_day_with_a_free_slot_of_a_recall_visit(ctx, fixed):
    """R10: with every Boston provider booked all Monday 30 November, a patient due that day is suggested
    Tuesday 1 December; with no appointment type doing the recall, the clinic's next working day."""
    from zoneinfo import ZoneInfo

    from revisit.models.entities import Appointment
    from revisit.services import suggestion
    monday, zone = date(2026, 11, 30), ZoneInfo("America/New_York")
    assert suggestion.suggested_visit_day(ctx, "boston", ["prophy"], monday) == monday
    for provider in [p for p in ctx.config.providers if p.clinic_id == "boston"]:
        for hour in range(7, 19):
            start = datetime(2026, 11, 30, hour, 0, tzinfo=zone)
            ctx.tables.appointments.book(Appointment(
                appointment_id=f"a-{provider.provider_id}-{hour}", patient_id=f"p-9{hour:05d}", clinic_id="boston",
                appointment_type="recall", provider_id=provider.provider_id, starts_at=start,
                ends_at=start + timedelta(hours=1), created_at=fixed.at))
    suggestion._found.clear()  # the schedule read kept for ten minutes: a new execution environment
    assert suggestion.suggested_visit_day(ctx, "boston", ["prophy"], monday) == date(2026, 12, 1)
    assert suggestion.suggested_visit_day(ctx, "boston", ["unknown-type"], monday) == monday


def test_a_cycle_opened_late_names_every_type_due_by_its_night(ctx, fixed):
    """X2: a re-surfaced cycle (or one opened weeks after the first due date) covers what is due by then,
    not only what fell due with the first type; its due date is the real one, not the cycle's key."""
    from revisit.models.entities import RecallItem
    ctx.tables.patients.save(make_patient(recalls=[RecallItem(recall_type="pano", last_done=date(2023, 11, 21)),
                                                   RecallItem(recall_type="prophy", last_done=date(2026, 6, 19)),
                                                   RecallItem(recall_type="bitewings", last_done=date(2026, 6, 1))]))
    fixed.at = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)
    prepared = recall.prepare_recall(PrepareRecallRequest(execution_name="r", patient_id="p-000001", clinic_id="boston",
                                                          recall_due_date=date(2026, 12, 24)), ctx)
    cycle = ctx.tables.cycles.get("p-000001", prepared.cycle_id)
    # pano due 21 November, prophy 20 December (by the night's lead window); bitewings June 2027: not yet
    assert cycle.recall_types == ["pano", "prophy"] and cycle.recall_due_date == date(2026, 11, 21)


def test_the_retention_score_follows_the_recall_history_and_orders_the_call_queue(ctx, fixed):
    """R25: stored when a cycle ends and when a recall visit is kept or missed; a call task carries it."""
    open_cycle(ctx)
    request = booking.BookingRequest(patient_id="p-000001", clinic_id="boston", appointment_type="recall",
                                     provider_id="boston-hyg-1", starts_at=datetime(2026, 11, 30, 14, 0, tzinfo=UTC))
    booked = booking.book(ctx, request, "site")
    assert ctx.tables.patients.get("p-000001").retention_score == 67  # one cycle, booked
    fixed.at = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    booking.change_status(ctx, "p-000001", booked.appointment.appointment_id, AppointmentStatus.NO_SHOW)
    assert ctx.tables.patients.get("p-000001").retention_score == 40  # booked, then missed: (1 + 1) / (2 + 3)
    _, second = open_cycle(ctx, "p-000002")
    ctx.tables.patients.save(ctx.tables.patients.get("p-000002").model_copy(update={"retention_score": 90}))
    results = walk(ctx, fixed, second)
    calls = [t for t in ctx.tables.tasks.open_queue("boston", "front_desk") if t.kind.value == "recall_call"]
    assert results and [t.retention_score for t in calls if t.patient_id == "p-000002"] == [90]
