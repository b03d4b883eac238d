"""Issue 9, through the offline API Gateway and the real handlers: the loop closes (X1), per-type history
comes in through the API (X4), staff outcomes change what the ladder may do (call booked, wrong number)."""

import json
from datetime import date, datetime, timedelta

from revisit.domain.consent import refusal
from revisit.models.common import Channel, MessageKind
from revisit.models.entities import CycleStatus, RecallItem, TaskKind
from revisit.models.steps.recall import PrepareRecallRequest, RecallRef
from revisit.offline.driver import Driver
from revisit.services import recall

from tests.conftest import make_patient

RECALL_VISIT = {"patient_id": "p-000001", "clinic_id": "boston", "appointment_type": "recall",
                "provider_id": "boston-hyg-1", "starts_at": "2026-11-30T09:00:00-05:00"}
HISTORY = [RecallItem(recall_type="prophy", last_done=date(2026, 5, 20)),
           RecallItem(recall_type="bitewings", last_done=date(2025, 12, 1)),
           RecallItem(recall_type="pano", last_done=date(2025, 1, 10))]


def patient_view(api, patient_id="p-000001"):
    return api.call("GET", f"/patients/{patient_id}").json()


def booked(api):
    answer = api.call("POST", "/appointments", RECALL_VISIT)
    assert answer.status == 201, answer.body
    return f"/patients/p-000001/appointments/{answer.json()['appointment_id']}"


def test_a_completed_visit_moves_each_satisfied_recall_type_and_the_next_due_date_follows(api):
    api.ctx.tables.patients.save(make_patient(recalls=HISTORY))
    assert api.ctx.tables.patients.count_due("boston", date(2026, 12, 31)) == 1  # prophy due 21 November
    before = {e["recall_type"]: e["status"] for e in patient_view(api)["recall_schedule"]}
    assert before == {"prophy": "due", "bitewings": "due", "pano": "not due"}
    path = booked(api)
    during = {e["recall_type"]: e["status"] for e in patient_view(api)["recall_schedule"]}
    assert during == {"prophy": "booked", "bitewings": "booked", "pano": "not due"}
    assert api.ctx.tables.patients.count_due("boston", date(2026, 12, 31)) == 0  # booked: off the due list
    api.stack.clock.advance_to(datetime.fromisoformat("2026-11-30T15:00:00+00:00"))
    assert api.call("POST", f"{path}/complete").status == 200
    view = patient_view(api)
    done = {r["recall_type"]: r["last_done"] for r in view["recalls"]}
    # prophy and bitewings were due by then; the pano (due January 2028) was not taken
    assert done == {"prophy": "2026-11-30", "bitewings": "2026-11-30", "pano": "2025-01-10"}
    assert view["last_visit"] == "2026-11-30" and view["next_appointment_at"] is None
    # X2: each type its own due date and status
    assert [(e["recall_type"], e["due_date"], e["status"]) for e in view["recall_schedule"]] == [
        ("prophy", "2027-05-31", "not due"), ("bitewings", "2027-11-30", "not due"), ("pano", "2028-01-10", "not due")]
    # the practice's nightly export sent again with the old dates moves nothing back
    stale = api.call("PATCH", "/patients/p-000001", {"last_visit": "2026-05-20", "recalls": [
        {"recall_type": r.recall_type, "last_done": r.last_done.isoformat()} for r in HISTORY]}).json()
    assert stale["last_visit"] == "2026-11-30" and {r["recall_type"]: r["last_done"] for r in stale["recalls"]} == done
    # the next recall: prophy six months and a day later, on the due list again
    assert api.ctx.tables.patients.count_due("boston", date(2027, 5, 30)) == 0
    assert api.ctx.tables.patients.count_due("boston", date(2027, 6, 1)) == 1


def test_a_cancelled_or_missed_recall_visit_brings_the_patient_back_into_recall_after_rebook_days(api):
    for action in ("cancel", "no-show"):
        api.ctx.tables.patients.save(make_patient(recalls=HISTORY))
        path = booked(api)
        if action == "no-show":
            api.stack.clock.advance_to(datetime.fromisoformat("2026-11-30T16:00:00+00:00"))
        body = {"reason": "ill"} if action == "cancel" else None
        assert api.call("POST", f"{path}/{action}", body).status == 200
        today = api.stack.clock.now().date()
        view = patient_view(api)
        back = today + timedelta(days=api.ctx.config.recall.rebook_after_days)
        assert view["next_appointment_at"] is None and view["recall_from"] == back.isoformat(), action
        # the sweep looks lead_days ahead: it takes the patient on the night of `back`, not before
        lead = timedelta(days=api.ctx.config.sweep.lead_days)
        assert api.ctx.tables.patients.count_due("boston", back + lead - timedelta(days=1)) == 0
        assert api.ctx.tables.patients.count_due("boston", back + lead) == 1
        assert view["recall_status"] == "Pending recall"


def test_an_integrator_brings_a_patients_recall_history_and_bad_history_names_the_field(api):
    new = {"patient_id": "p-000050", "clinic_id": "boston", "first_name": "Ada", "last_name": "Byron",
           "date_of_birth": "1990-02-03", "language": "en", "phone": "+16175550150", "sms_consent": True,
           "last_visit": "2026-06-01", "recalls": [{"recall_type": "prophy", "last_done": "2026-06-01"},
                                                   {"recall_type": "perio", "last_done": "2026-08-20", "interval_months": 2}]}
    created = api.call("POST", "/patients", new)
    assert created.status == 201 and created.json()["last_visit"] == "2026-06-01"
    # perio every 2 months for this patient: due 20 October, so already on the due list
    assert api.ctx.tables.patients.count_due("boston", date(2026, 10, 21)) == 1
    for bad, field in (({"recalls": [{"recall_type": "whitening", "last_done": "2026-01-01"}]}, "recalls.0.recall_type"),
                       ({"recalls": [{"recall_type": "prophy", "last_done": "2030-01-01"}]}, "recalls.0.last_done"),
                       ({"recalls": [{"recall_type": "prophy", "last_done": "2026-01-01"}] * 2}, "recalls.1.recall_type"),
                       ({"last_visit": "2031-01-01"}, "last_visit")):
        answer = api.call("PATCH", "/patients/p-000050", bad)
        assert answer.status == 422 and answer.json()["field"] == field, (bad, answer.body)
    assert patient_view(api, "p-000050")["recalls"][1]["interval_months"] == 2  # nothing changed
    replaced = api.call("PATCH", "/patients/p-000050", {"recalls": [{"recall_type": "prophy", "last_done": "2026-11-01"}]})
    assert [r["recall_type"] for r in replaced.json()["recalls"]] == ["prophy"]


def test_a_call_booked_ends_the_cycle_and_a_wrong_number_stops_sms_and_calls_until_the_phone_changes(api):
    driver = Driver(api.stack)
    for patient_id, phone in (("p-000061", "+16175550161"), ("p-000062", "+16175550162")):
        api.ctx.tables.patients.save(make_patient(patient_id, phone=phone, recalls=HISTORY))
        recall.prepare_recall(PrepareRecallRequest(execution_name=f"r-{patient_id}", patient_id=patient_id,
                                                   clinic_id="boston", recall_due_date=date(2026, 11, 21)), api.ctx)
        recall.create_recall_tasks(RecallRef(execution_name=f"r-{patient_id}", patient_id=patient_id,
                                             cycle_id="2026-11-21"), api.ctx)
    driver.settle()
    tasks = {t.patient_id: t for t in api.ctx.tables.tasks.open_queue("boston", "front_desk") if t.kind == TaskKind.RECALL}
    assert api.call("POST", f"/tasks/{tasks['p-000061'].task_id}/call-outcome", {"result": "booked"}).status == 200
    assert api.ctx.tables.cycles.get("p-000061", "2026-11-21").status == CycleStatus.BOOKED
    # booked elsewhere (nothing on Revisit's schedule): back in recall rebook_after_days later, never stuck
    back = api.stack.clock.now().date() + timedelta(days=api.ctx.config.recall.rebook_after_days)
    assert patient_view(api, "p-000061")["recall_from"] == back.isoformat()
    assert api.call("POST", f"/tasks/{tasks['p-000062'].task_id}/call-outcome", {"result": "wrong_number"}).status == 200
    assert patient_view(api, "p-000062")["phone_invalid"] is True
    stored = api.ctx.tables.patients.get("p-000062")
    assert refusal(stored, Channel.SMS, MessageKind.RECALL) == "skipped_no_address"
    assert refusal(stored, Channel.CALL_TASK, MessageKind.RECALL) == "skipped_no_address"
    changed = api.call("PATCH", "/patients/p-000062", {"phone": "+16175550199"})
    assert changed.json()["phone_invalid"] is False


def test_a_recall_visit_that_did_not_happen_brings_a_cycle_whose_message_asks_for_a_new_date(api):
    """X1: the cycle that follows a cancelled recall visit says so ('still needs a new date')."""
    from moto.sns.models import sns_backends
    from revisit.offline.stack import ACCOUNT, REGION
    driver = Driver(api.stack)
    api.ctx.tables.patients.save(make_patient(recalls=HISTORY))
    recall.prepare_recall(PrepareRecallRequest(execution_name="r-1", patient_id="p-000001", clinic_id="boston",
                                               recall_due_date=date(2026, 11, 21)), api.ctx)
    path = booked(api)
    assert api.ctx.tables.cycles.get("p-000001", "2026-11-21").status == CycleStatus.BOOKED
    assert api.call("POST", f"{path}/cancel", {"reason": "ill"}).status == 200
    back = date.fromisoformat(patient_view(api)["recall_from"])
    api.stack.start_execution("recall", f"recall-p-000001-{back:%Y%m%d}", {
        "patient_id": "p-000001", "clinic_id": "boston", "recall_due_date": back.isoformat()})
    driver.run_until(datetime.combine(back, datetime.min.time()).replace(tzinfo=api.stack.clock.now().tzinfo)
                     + timedelta(days=1))
    cycle = api.ctx.tables.cycles.get("p-000001", back.isoformat())
    assert cycle.rebook is True and cycle.status == CycleStatus.CONTACTED
    texts = [text for phone, text in sns_backends[ACCOUNT][REGION].sms_messages.values()
             if phone == "+16172223344" and "new date" in text]
    assert len(texts) == 1 and texts[0].startswith("Hi Emma, your check-up and cleaning and 1 more at Smile Circle Boston still needs")


def test_the_patients_history_shows_each_cycle_and_contact_without_message_text(api):
    """R24, X3: the cycles (re-surfaced ones too) and every message or task on the file, ids and outcomes."""
    from revisit.models.steps.recall import RecallRef
    api.ctx.tables.patients.save(make_patient(recalls=HISTORY))
    recall.prepare_recall(PrepareRecallRequest(execution_name="r-1", patient_id="p-000001", clinic_id="boston",
                                               recall_due_date=date(2026, 11, 21)), api.ctx)
    api.stack.clock.advance_to(datetime.fromisoformat("2026-11-23T15:00:00+00:00"))
    recall.contact_patient(RecallRef(execution_name="r-1", patient_id="p-000001", cycle_id="2026-11-21"), api.ctx)
    history = api.call("GET", "/patients/p-000001/history").json()
    [cycle] = history["cycles"]
    assert (cycle["cycle_id"], cycle["status"], cycle["attempts"], cycle["recall_types"]) == (
        "2026-11-21", "Contacted", 1, ["bitewings", "prophy"])
    assert [(c["step"], c["channel"], c["outcome"]) for c in history["contacts"]] == [("sms-1", "sms", "sent")]
    assert "Emma" not in json.dumps(history) and "text" not in history["contacts"][0]
    assert history["contacts"][0]["message_id"]  # what SNS's delivery log is searched by (docs/operations.md)
    assert api.call("GET", "/patients/p-404/history").status == 404


def test_a_patient_handed_to_reactivation_who_comes_back_is_in_the_loop_again(api):
    from revisit.models.entities import PatientStatus
    api.ctx.tables.patients.save(make_patient(recalls=HISTORY, status=PatientStatus.INACTIVE))
    assert api.ctx.tables.patients.count_due("boston", date(2027, 12, 31)) == 0  # Inactive: off the due list
    path = booked(api)
    api.stack.clock.advance_to(datetime.fromisoformat("2026-11-30T15:00:00+00:00"))
    assert api.call("POST", f"{path}/complete").json()["status"] == "completed"
    assert patient_view(api)["status"] == "Active"
    assert api.ctx.tables.patients.count_due("boston", date(2027, 6, 1)) == 1
