"""The booking API through the offline gateway: the same events, authorizer and handler as on AWS."""

import threading

import pytest

from tests.conftest import make_patient

BOOKING = {"patient_id": "p-000001", "clinic_id": "boston", "appointment_type": "recall",
           "provider_id": "boston-hyg-1", "starts_at": "2026-11-30T09:00:00-05:00"}


def test_health_needs_no_credential(api):
    assert api.call("GET", "/health", token=None).json() == {"status": "ok"}


def test_missing_wrong_revoked_and_cross_tenant_credentials(api):
    assert api.call("GET", "/patients/p-000001", token=None).status == 401
    assert api.call("GET", "/patients/p-000001", token="rvk_000000000000_" + "x" * 43).status == 401
    assert api.call("GET", "/patients/p-000001", token="not a token").status == 401
    assert api.call("GET", "/patients/p-000001", token=api.other_tenant_token).status == 403
    assert api.call("GET", "/patients/p-000001").status == 200
    from revisit.api.auth import CredentialStore
    CredentialStore(api.stack.tables.credentials).revoke(api.integrator.key_id)
    assert api.call("GET", "/patients/p-000001").status == 403


def test_patients_create_read_update_and_errors_name_the_field(api):
    new = {"patient_id": "p-000002", "clinic_id": "madrid", "first_name": "Ana", "last_name": "Ruiz",
           "date_of_birth": "1990-02-03", "language": "es", "phone": "+34600111222", "sms_consent": True}
    created = api.call("POST", "/patients", new)
    assert created.status == 201 and created.json()["patient_id"] == "p-000002"
    assert api.call("POST", "/patients", new).status == 409
    bad = api.call("POST", "/patients", {**new, "patient_id": "p-000003", "phone": "12"})
    assert bad.status == 422 and bad.json()["field"] == "phone"
    assert api.call("POST", "/patients", {**new, "patient_id": "p-000004", "clinic_id": "paris"}).json()["field"] == "clinic_id"
    assert api.call("GET", "/patients/p-000404").status == 404
    changed = api.call("PATCH", "/patients/p-000002", {"email": "ana@mail.example.com", "email_consent": True})
    assert changed.status == 200 and changed.json()["email"] == "ana@mail.example.com"
    assert api.call("PATCH", "/patients/p-000002", {"email": "nope"}).json()["field"] == "email"
    assert api.call("GET", "/patients/p-000002").json()["email_consent"] is True


def test_availability_lists_free_slots_and_a_booking_removes_them(api):
    url = "/clinics/boston/availability?appointment_type=recall&from=2026-11-30&to=2026-11-30&provider_id=boston-hyg-1"
    before = api.call("GET", url).json()["slots"]
    assert before[0]["starts_at"].startswith("2026-11-30T08:00:00")
    assert api.call("POST", "/appointments", BOOKING).status == 201
    after = api.call("GET", url).json()["slots"]
    starts = {s["starts_at"][:16] for s in after}
    assert "2026-11-30T09:00" not in starts and "2026-11-30T08:30" not in starts and "2026-11-30T08:15" in starts
    missing = api.call("GET", "/clinics/boston/availability?appointment_type=recall&from=2026-11-30")
    assert missing.status == 422 and missing.json()["field"] == "to"
    assert api.call("GET", "/clinics/paris/availability?appointment_type=recall&from=2026-11-30&to=2026-11-30").status == 404


def test_a_booking_with_an_idempotency_key_happens_once(api):
    headers = {"Idempotency-Key": "order-17"}
    first = api.call("POST", "/appointments", BOOKING, headers=headers)
    again = api.call("POST", "/appointments", BOOKING, headers=headers)
    assert (first.status, again.status) == (201, 200)
    assert first.json()["appointment_id"] == again.json()["appointment_id"]
    other = api.call("POST", "/appointments", {**BOOKING, "starts_at": "2026-11-30T11:00:00-05:00"}, headers=headers)
    assert other.status == 422 and other.json()["field"] == "Idempotency-Key"
    assert api.ctx.tables.patients.get("p-000001").next_appointment_at is not None


def test_concurrent_bookings_of_one_slot_have_exactly_one_winner(api):
    for n in range(2, 8):
        api.ctx.tables.patients.save(__import__("tests.conftest", fromlist=["make_patient"]).make_patient(f"p-00000{n}"))
    statuses, barrier = [], threading.Barrier(6)

    def attempt(n):
        barrier.wait()
        statuses.append(api.call("POST", "/appointments", {**BOOKING, "patient_id": f"p-00000{n}"}).status)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(2, 8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201, 409, 409, 409, 409, 409]
    overlapping = api.call("POST", "/appointments", {**BOOKING, "starts_at": "2026-11-30T09:30:00-05:00"})
    assert overlapping.status == 409 and overlapping.json()["field"] == "starts_at"


def test_booking_rules_name_the_field(api):
    cases = {
        "starts_at": {"starts_at": "2026-11-30T09:10:00-05:00"},
        "provider_id": {"provider_id": "madrid-dds-1"},
        "appointment_type": {"appointment_type": "surgery"},
    }
    for field, change in cases.items():
        answer = api.call("POST", "/appointments", {**BOOKING, **change})
        assert (answer.status, answer.json()["field"]) == (422, field), field
    sunday = api.call("POST", "/appointments", {**BOOKING, "starts_at": "2026-11-29T09:00:00-05:00"})
    assert sunday.status == 422 and "working hours" in sunday.json()["error"]
    christmas_eve = api.call("POST", "/appointments", {**BOOKING, "starts_at": "2026-12-24T09:00:00-05:00"})
    assert christmas_eve.status == 422 and "closed" in christmas_eve.json()["error"]
    assert api.call("POST", "/appointments", {**BOOKING, "patient_id": "p-000404"}).status == 404


def test_cancel_frees_the_slot_and_cannot_happen_twice(api):
    booked = api.call("POST", "/appointments", BOOKING).json()
    path = f"/patients/p-000001/appointments/{booked['appointment_id']}"
    assert api.call("GET", path).json()["status"] == "booked"
    cancelled = api.call("POST", f"{path}/cancel", {"reason": "patient called"})
    assert cancelled.status == 200 and cancelled.json()["status"] == "cancelled"
    assert api.call("POST", f"{path}/cancel", {}).status == 409
    assert api.call("POST", f"{path}/no-show").status == 409
    assert api.call("POST", "/appointments", {**BOOKING, "patient_id": "p-000001"}).status == 201
    assert api.ctx.tables.patients.get("p-000001").next_appointment_at is not None
    assert api.call("GET", "/patients/p-000001/appointments/a-missing").status == 404


def test_work_queue_and_call_outcome(api):
    from datetime import timedelta

    from revisit.models.common import Role
    from revisit.models.entities import StaffTask, TaskKind, TaskPriority

    from tests.conftest import START

    api.ctx.tables.tasks.create(StaffTask(task_id="t-1", kind=TaskKind.RECALL_CALL, role=Role.FRONT_DESK,
                                          clinic_id="boston", priority=TaskPriority.HIGH, title="Call",
                                          due_at=START + timedelta(hours=1), created_at=START, patient_id="p-000001"))
    queue = api.call("GET", "/clinics/boston/tasks?role=front_desk")
    assert [t["task_id"] for t in queue.json()] == ["t-1"]
    missing_reason = api.call("POST", "/tasks/t-1/call-outcome", {"result": "declined"})
    assert missing_reason.status == 422 and missing_reason.json()["field"] == "reason"
    assert api.call("POST", "/tasks/t-1/call-outcome", {"result": "maybe"}).json()["field"] == "result"
    done = api.call("POST", "/tasks/t-1/call-outcome", {"result": "no_answer"})
    assert done.status == 200 and done.json()["status"] == "done"
    assert api.call("GET", "/clinics/boston/tasks?role=front_desk").json() == []
    assert api.call("POST", "/tasks/t-404/call-outcome", {"result": "no_answer"}).status == 404


def test_every_appointment_change_is_published_to_the_tenant_bus(api):
    events, sqs = api.stack.client("events"), api.stack.client("sqs")
    queue = sqs.create_queue(QueueName="integration")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all-appointments", EventBusName="revisit-demo",
                    EventPattern='{"source": ["revisit.appointments"]}')
    events.put_targets(Rule="all-appointments", EventBusName="revisit-demo", Targets=[{"Id": "q", "Arn": queue_arn}])
    booked = api.call("POST", "/appointments", BOOKING).json()
    api.call("POST", f"/patients/p-000001/appointments/{booked['appointment_id']}/cancel", {"reason": "ill"})
    import json as _json
    received = [_json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]]
    assert [e["detail-type"] for e in received] == ["AppointmentBooked", "AppointmentCancelled"]
    detail = received[0]["detail"]
    assert detail["appointment_id"] == booked["appointment_id"] and detail["tenant_id"] == "demo"
    assert "first_name" not in _json.dumps(received) and "+1617" not in _json.dumps(received)


def test_payments_are_recorded_once_per_reference(api):
    booked = api.call("POST", "/appointments", BOOKING).json()
    path = f"/patients/p-000001/appointments/{booked['appointment_id']}/payments"
    payment = {"payment_id": "inv-1001", "amount": "85.50", "currency": "USD", "method": "card"}
    first = api.call("POST", path, payment)
    assert first.status == 201 and first.json()["amount"] in ("85.50", "85.5", 85.5)
    assert api.call("POST", path, payment).status == 201  # the same payment again: recorded once
    assert api.call("POST", path, {**payment, "amount": "90.00"}).status == 409
    assert api.call("POST", path, {**payment, "payment_id": "inv-1002", "amount": "-1"}).json()["field"] == "amount"
    assert api.call("POST", path, {**payment, "payment_id": "inv-1003", "currency": "usd"}).json()["field"] == "currency"
    assert api.call("POST", "/patients/p-000001/appointments/a-none/payments", payment).status == 404


def test_insurance_primary_policy_and_its_verification(api):
    assert api.call("GET", "/patients/p-000001/insurance").json() == {"primary": None, "latest_verification": None}
    older = {"payer": "Delta Dental", "member_id": "DD-1", "valid_from": "2024-01-01", "valid_to": "2025-12-31"}
    newer = {"payer": "Aetna", "member_id": "AE-9", "valid_from": "2026-01-01", "covered_recall_types": ["prophy"]}
    api.call("PUT", "/patients/p-000001/insurance/primary", older)
    view = api.call("PUT", "/patients/p-000001/insurance/primary", newer).json()
    assert view["primary"]["payer"] == "Aetna"
    verified = api.call("POST", "/patients/p-000001/insurance/verification")
    assert verified.status == 200 and verified.json()["status"] == "active" and verified.json()["source"] == "stored-coverage"
    assert api.call("GET", "/patients/p-000001/insurance").json()["latest_verification"]["status"] == "active"
    assert api.call("PUT", "/patients/p-000001/insurance/primary", {**newer, "valid_from": "soon"}).json()["field"] == "valid_from"
    assert api.call("POST", "/patients/p-000404/insurance/verification").status == 404


def test_each_integrator_has_its_own_rate_limit(api):
    from revisit.api.auth import CredentialStore

    _, slow = CredentialStore(api.stack.tables.credentials).issue("slow-partner", "demo", rate_per_second=1)
    statuses = [api.call("GET", "/patients/p-000001", token=slow).status for _ in range(4)]
    assert statuses[:2] == [200, 200] and 429 in statuses[2:]
    assert api.call("GET", "/patients/p-000001").status == 200  # another integrator is not slowed down


def test_a_name_with_a_right_to_left_override_is_refused_with_422_naming_the_field(api):
    body = {"patient_id": "p-000777", "clinic_id": "boston", "first_name": "Emma\u202e", "last_name": "Walsh",
            "date_of_birth": "1980-01-01", "language": "en"}
    answer = api.call("POST", "/patients", body)
    assert answer.status == 422 and answer.json()["field"] == "first_name"
    assert api.call("GET", "/patients/p-000777").status == 404  # nothing changed


BODY_OPERATIONS = [("POST", "/patients"), ("PATCH", "/patients/p-000001"), ("PUT", "/patients/p-000001/insurance/primary"),
                   ("POST", "/appointments"), ("POST", "/patients/p-000001/appointments/a-1/cancel"),
                   ("POST", "/patients/p-000001/appointments/a-1/reschedule"),
                   ("POST", "/patients/p-000001/appointments/a-1/payments"), ("POST", "/tasks/t-1/call-outcome")]


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS)
def test_a_body_that_is_not_json_is_a_415_naming_the_header_never_a_5xx(api, method, path):
    for content_type in ("multipart/form-data", "application/xml", "text/plain"):
        answer = api.call(method, path, "x=1", headers={"Content-Type": content_type})
        assert answer.status == 415 and answer.json()["field"] == "Content-Type", content_type


def test_an_overlong_or_odd_path_id_is_a_422_naming_it(api):
    for path, field in [("/patients/" + "p" * 3000, "patient_id"), ("/clinics/bo%00ston/tasks", "clinic_id"),
                        ("/patients/p-000001/appointments/" + "a" * 2100, "appointment_id")]:
        answer = api.call("GET", path)
        assert answer.status == 422 and answer.json()["field"] == field, path


def test_the_bearer_scheme_is_case_insensitive(api):
    assert api.call("GET", "/patients/p-000001", token=None,
                    headers={"Authorization": f"bearer {api.token}"}).status == 200


def test_far_future_dates_and_oversized_free_text_are_422s_naming_the_field(api):
    far = api.call("GET", "/clinics/boston/availability?appointment_type=recall&from=9999-12-31&to=9999-12-31")
    assert far.status == 422 and far.json()["field"] == "from"
    booking = {"patient_id": "p-000001", "clinic_id": "boston", "appointment_type": "recall",
               "provider_id": "boston-hyg-1", "starts_at": "9999-12-31T23:45:00+00:00"}
    answer = api.call("POST", "/appointments", booking)
    assert answer.status == 422 and answer.json()["field"] == "starts_at"
    policy = {"payer": "X" * 450_000, "member_id": "M1", "valid_from": "2026-01-01"}
    answer = api.call("PUT", "/patients/p-000001/insurance/primary", policy)
    assert answer.status == 422 and answer.json()["field"] == "payer"
    assert api.call("GET", "/clinics/boston/tasks?role=janitor").json()["field"] == "role"


def test_content_type_spelling_and_bodies_on_reads(api):
    changed = api.call("PATCH", "/patients/p-000001", {"email_consent": False},
                       headers={"Content-Type": "Application/JSON; charset=UTF-8"})
    assert changed.status == 200 and changed.json()["email_consent"] is False
    empty = api.call("POST", "/patients", "", headers={"Content-Type": "text/plain"})
    assert empty.status == 415 and empty.json()["field"] == "Content-Type"
    assert api.call("GET", "/patients/p-000001", "ignored", headers={"Content-Type": "text/plain"}).status == 200


def test_a_record_written_before_versions_existed_can_still_be_changed(api):
    from revisit.adapters.dynamo_keys import patient as patient_key

    item = api.stack.table.get_item(Key=patient_key("p-000001"))["Item"]
    del item["version"]
    api.stack.table.put_item(Item=item)
    answer = api.call("PATCH", "/patients/p-000001", {"email_consent": False})
    assert answer.status == 200
    assert api.ctx.tables.patients.get("p-000001").version == 1


def test_a_record_that_keeps_changing_is_a_503_to_retry_not_a_502(api, monkeypatch):
    from revisit.errors import Conflict

    def always_changed(patient):
        raise Conflict("changed meanwhile")

    monkeypatch.setattr(api.ctx.tables.patients, "update", always_changed)
    answer = api.call("PATCH", "/patients/p-000001", {"email_consent": False})
    assert answer.status == 503 and answer.headers.get("Retry-After") == "1"


def test_a_credential_scoped_to_a_clinic_sees_nothing_of_the_others(api):
    from revisit.api.auth import CredentialStore

    api.ctx.tables.patients.save(make_patient("p-000002", clinic_id="madrid", language="es", phone="+34612345678"))
    _, madrid_only = CredentialStore(api.stack.tables.credentials).issue("madrid-site", "demo", 1000, ("madrid",))
    assert api.call("GET", "/patients/p-000002", token=madrid_only).status == 200
    for method, path, body in [("GET", "/patients/p-000001", None), ("GET", "/clinics/boston/tasks", None),
                               ("GET", "/clinics/boston/availability?appointment_type=recall&from=2026-11-30&to=2026-11-30", None),
                               ("POST", "/appointments", {"patient_id": "p-000001", "clinic_id": "boston",
                                                          "appointment_type": "recall", "provider_id": "boston-hyg-1",
                                                          "starts_at": "2026-11-30T09:00:00-05:00"})]:
        answer = api.call(method, path, body, token=madrid_only)
        assert answer.status == 404, path
    assert api.call("GET", "/patients/p-000001").status == 200  # an unscoped credential sees every clinic
