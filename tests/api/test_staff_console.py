"""Issue 15, the staff console's API: sign-in on the tenant's user pool (moto's Cognito), the ID token checked as
API Gateway's Cognito authorizer checks it, and each role seeing what its work needs and nothing more: a
registrar no clinical record and no recall list, a front desk only its clinic, only administrators the audit
log; every view of a patient's record in the audit log; a call recorded from the queue."""

import json

import pytest
from revisit.offline.cognito import cognito_endpoint, demo_password
from revisit.services import recall


def sign_in(api, staff_id):
    pool = api.stack.staff_pool
    answer = api.stack.client("cognito-idp").initiate_auth(
        ClientId=pool.client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": staff_id, "PASSWORD": demo_password(staff_id)})
    return answer["AuthenticationResult"]["IdToken"]


def as_staff(api, staff_id, method, url, body=None):
    return api.gateway.request(method, url, body, {"Authorization": sign_in(api, staff_id)})


@pytest.fixture
def overdue_patient(api):
    """p-000001 at Boston with an open recall cycle whose call task is in the front desk's queue."""
    from revisit.models.steps.recall import OpenRecallRequest

    patient = api.ctx.tables.patients.get("p-000001")
    recall.open_recall(OpenRecallRequest(patient_id=patient.patient_id, clinic_id=patient.clinic_id,
                                         recall_due_date="2026-11-20", execution_name="recall-p-000001-20261120"),
                       api.ctx)
    return api.ctx.tables.patients.get("p-000001")


def test_no_token_a_forged_one_or_an_integrators_key_gets_401(api):
    assert api.gateway.request("GET", "/staff/me").status == 401
    token = sign_in(api, "boston-front-desk")
    header, payload, signature = token.split(".")
    forged = api.gateway.request("GET", "/staff/me", headers={"Authorization": f"{header}.{payload}.{signature[:-4]}AAAA"})
    assert forged.status == 401
    assert api.call("GET", "/staff/me").status == 401  # the integrator's credential is not a staff sign-in


def test_wrong_password_is_refused_in_cognitos_own_words(api):
    request = {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": api.stack.staff_pool.client_id,
               "AuthParameters": {"USERNAME": "boston-front-desk", "PASSWORD": "guess"}}
    status, answer = cognito_endpoint(api.stack.client("cognito-idp"), "AWSCognitoIdentityProviderService.InitiateAuth",
                                      json.dumps(request))
    assert status == 400 and answer["__type"] == "NotAuthorizedException"
    status, _ = cognito_endpoint(api.stack.client("cognito-idp"), "AWSCognitoIdentityProviderService.AdminCreateUser", "{}")
    assert status == 400


@pytest.mark.parametrize(("staff_id", "views"), [
    ("boston-front-desk", ["campaigns", "intake", "queue", "recalls", "schedule", "timeline"]),
    ("boston-hygienist", ["clinical", "intake", "queue", "recalls", "schedule", "timeline"]),
    ("boston-reg-1", ["queue", "schedule", "timeline"]),
    ("chain-admin", ["audit", "campaigns", "intake", "queue", "recalls", "reports", "schedule", "timeline"]),
])
def test_each_role_is_told_its_views(api, staff_id, views):
    me = as_staff(api, staff_id, "GET", "/staff/me")
    assert me.status == 200 and me.json()["views"] == views and me.headers["Cache-Control"] == "no-store"


def test_each_role_sees_what_its_work_needs_and_nothing_more(api, overdue_patient):
    pid = overdue_patient.patient_id
    assert as_staff(api, "boston-front-desk", "GET", "/staff/clinics/boston/recalls").status == 200
    assert as_staff(api, "boston-front-desk", "GET", "/staff/clinics/madrid/recalls").status == 403  # not their clinic
    assert as_staff(api, "boston-reg-1", "GET", "/staff/clinics/boston/recalls").status == 403  # not a registrar's
    assert as_staff(api, "boston-front-desk", "GET", "/staff/audit").status == 403
    assert as_staff(api, "madrid-reg-1", "GET", f"/staff/patients/{pid}/timeline").status == 404  # another clinic's

    registrar = as_staff(api, "boston-reg-1", "GET", f"/staff/patients/{pid}/timeline").json()
    hygienist = as_staff(api, "boston-hygienist", "GET", f"/staff/patients/{pid}/timeline").json()
    assert registrar["clinical"] is False and registrar["visits"] == [] and registrar["treatment_plans"] == []
    assert hygienist["clinical"] is True and registrar["cycles"] and registrar["executions"]
    assert hygienist["executions"][0]["console_url"].startswith("https://us-east-1.console.aws.amazon.com/states/")

    audit = as_staff(api, "chain-admin", "GET", "/staff/audit")
    assert audit.status == 200
    assert sorted((v["staff_id"], v["patient_id"], v["part"]) for v in audit.json()["views"]) == [
        ("boston-hygienist", pid, "clinical"), ("boston-reg-1", pid, "timeline")]


def test_the_recall_list_filters_and_exports_csv(api, overdue_patient):
    rows = as_staff(api, "boston-front-desk", "GET", "/staff/clinics/boston/recalls?min_days_overdue=3").json()
    assert [r["patient_id"] for r in rows] == [overdue_patient.patient_id] and rows[0]["days_overdue"] >= 3
    assert as_staff(api, "boston-front-desk", "GET", "/staff/clinics/boston/recalls?recall_type=pano").json() == []
    assert as_staff(api, "boston-front-desk", "GET", "/staff/clinics/boston/recalls?rung=7").json() == []
    csv = as_staff(api, "boston-front-desk", "GET", "/staff/clinics/boston/recalls?format=csv")
    assert csv.status == 200 and csv.headers["Content-Type"].startswith("text/csv")
    assert csv.body.splitlines()[0].startswith("patient_id,patient_name,recall_due_date,days_overdue")
    assert overdue_patient.patient_id in csv.body
    assert as_staff(api, "boston-front-desk", "GET", "/staff/clinics/boston/recalls?rung=x").status == 422


def test_a_front_desk_call_recorded_from_the_queue(api, overdue_patient):
    from revisit import clock
    from revisit.models.common import Role
    from revisit.models.entities import StaffTask, TaskKind, TaskPriority

    api.ctx.tables.tasks.create(StaffTask(
        task_id="t-call-1", kind=TaskKind.RECALL_CALL, role=Role.FRONT_DESK, clinic_id="boston",
        priority=TaskPriority.HIGH, title="Call patient p-000001", due_at=clock.now(), created_at=clock.now(),
        patient_id=overdue_patient.patient_id, cycle_id=overdue_patient.recall_cycle_id or "2026-11-20"))
    queue = as_staff(api, "boston-front-desk", "GET", "/staff/clinics/boston/queue").json()
    [row] = [t for t in queue["tasks"] if t["task_id"] == "t-call-1"]
    assert row["action"] == "call" and row["patient"]["name"] == "Emma Walsh" and row["patient"]["phone"]
    assert row["recall"]["types"] and queue["time_zone"] == "America/New_York"
    assert as_staff(api, "boston-hygienist", "POST", "/staff/tasks/t-call-1/call-outcome",
                    {"result": "no_answer"}).status == 404  # another role's task
    missing = as_staff(api, "boston-front-desk", "POST", "/staff/tasks/t-call-1/call-outcome", {"result": "declined"})
    assert missing.status == 422 and missing.json()["field"] == "reason"
    done = as_staff(api, "boston-front-desk", "POST", "/staff/tasks/t-call-1/call-outcome",
                    {"result": "declined", "reason": "cost"})
    assert done.status == 200 and done.json()["status"] == "done" and done.json()["reason"] == "cost"
    assert "t-call-1" not in [t["task_id"] for t in as_staff(api, "boston-front-desk", "GET",
                                                                "/staff/clinics/boston/queue").json()["tasks"]]
    again = as_staff(api, "boston-front-desk", "POST", "/staff/tasks/t-call-1/call-outcome", {"result": "wrong_number"})
    assert again.status == 409  # closed already: a double click or a stale page changes nothing
    assert api.ctx.tables.patients.get(overdue_patient.patient_id).phone_invalid is False


def test_a_review_is_done_not_called_and_bad_requests_are_4xx(api, overdue_patient):
    from revisit import clock
    from revisit.models.common import Role
    from revisit.models.entities import StaffTask, TaskKind, TaskPriority

    api.ctx.tables.tasks.create(StaffTask(
        task_id="t-review-1", kind=TaskKind.CHART_REVIEW, role=Role.HYGIENIST, clinic_id="boston",
        priority=TaskPriority.NORMAL, title="Review chart", due_at=clock.now(), created_at=clock.now(),
        patient_id=overdue_patient.patient_id, cycle_id=overdue_patient.recall_cycle_id))
    refused = as_staff(api, "boston-hygienist", "POST", "/staff/tasks/t-review-1/call-outcome",
                       {"result": "declined", "reason": "cost"})
    assert refused.status == 409  # a review is not a call: the recall is not declined by it
    assert api.ctx.tables.cycles.get(overdue_patient.patient_id, overdue_patient.recall_cycle_id).status.is_open
    done = as_staff(api, "boston-hygienist", "POST", "/staff/tasks/t-review-1/done")
    assert done.status == 200 and done.json()["status"] == "done" and "boston-hygienist" in done.json()["reason"]
    assert as_staff(api, "chain-admin", "GET", "/staff/clinics/nowhere/queue").status == 404
    assert as_staff(api, "chain-admin", "GET", "/staff/clinics/nowhere/recalls").status == 404
    token = sign_in(api, "boston-front-desk")
    bad = api.gateway.request("POST", "/staff/tasks/t-review-1/booking", "x", {"Authorization": token})
    assert bad.status == 422 and bad.json()["field"] == "body" and bad.headers["Cache-Control"] == "no-store"


def test_booked_goes_straight_to_the_patients_free_times_and_books_once(api, overdue_patient):
    from revisit import clock
    from revisit.models.common import Role
    from revisit.models.entities import StaffTask, TaskKind, TaskPriority

    api.ctx.tables.tasks.create(StaffTask(
        task_id="t-call-2", kind=TaskKind.RECALL_CALL, role=Role.FRONT_DESK, clinic_id="boston",
        priority=TaskPriority.HIGH, title="Call patient p-000001", due_at=clock.now(), created_at=clock.now(),
        patient_id=overdue_patient.patient_id, cycle_id=overdue_patient.recall_cycle_id))
    found = as_staff(api, "boston-front-desk", "GET", "/staff/tasks/t-call-2/slots").json()
    assert found["appointment_type"] == "recall" and found["slots"]
    slot = found["slots"][0]
    bad = as_staff(api, "boston-front-desk", "POST", "/staff/tasks/t-call-2/booking", {"provider_id": slot["provider_id"]})
    assert bad.status == 422 and bad.json()["field"] == "starts_at"
    booked = as_staff(api, "boston-front-desk", "POST", "/staff/tasks/t-call-2/booking",
                      {"provider_id": slot["provider_id"], "starts_at": slot["starts_at"]})
    assert booked.status == 201 and booked.json()["booked_by"] == "boston-front-desk"
    task = api.ctx.tables.tasks.get("t-call-2")
    assert task.status.value == "done" and task.result.value == "booked"
    assert len(api.ctx.tables.appointments.for_patient(overdue_patient.patient_id)) == 1


def test_the_schedule_shows_each_providers_day_with_confirmations_and_changes_go_through_the_booking_service(api):
    from datetime import datetime

    from revisit.services import booking

    booked = booking.book(api.ctx, booking.BookingRequest("p-000001", "boston", "recall", "boston-hyg-1",
                                                          datetime.fromisoformat("2026-12-01T09:00:00-05:00")),
                          "front-desk").appointment
    day = as_staff(api, "boston-front-desk", "GET", "/staff/clinics/boston/schedule?day=2026-12-01").json()
    assert day["time_zone"] == "America/New_York"
    [hygienist] = [p for p in day["providers"] if p["provider_id"] == "boston-hyg-1"]
    assert [(a["appointment_id"], a["confirmation"]) for a in hygienist["appointments"]] == [
        (booked.appointment_id, "unconfirmed")]
    assert as_staff(api, "boston-front-desk", "GET", "/staff/clinics/madrid/schedule").status == 403
    path = f"/staff/patients/p-000001/appointments/{booked.appointment_id}"
    assert as_staff(api, "madrid-reg-1", "POST", f"{path}/cancel", {}).status == 404  # another clinic's

    confirmed = as_staff(api, "boston-front-desk", "POST", f"{path}/confirmation", {"status": "confirmed"})
    assert confirmed.status == 200 and confirmed.json()["confirmation"] == "confirmed"
    free = as_staff(api, "boston-front-desk", "GET", "/staff/clinics/boston/availability?appointment_type=recall&day=2026-12-02")
    target = free.json()[3]
    moved = as_staff(api, "boston-front-desk", "POST", f"{path}/reschedule", target)
    assert moved.status == 200 and moved.json()["starts_at"].startswith("2026-12-02")
    assert moved.json()["confirmation"] == "unconfirmed"  # a new time is confirmed again
    assert as_staff(api, "boston-front-desk", "POST", f"{path}/reschedule", {"starts_at": "soon"}).status == 422
    cancelled = as_staff(api, "boston-front-desk", "POST", f"{path}/cancel", {"reason": "patient called"})
    assert cancelled.status == 200 and cancelled.json()["status"] == "cancelled"
    assert "boston-front-desk" in cancelled.json()["cancel_reason"]
    assert as_staff(api, "boston-front-desk", "POST", f"{path}/delete", {}).status == 404


def test_reports_are_listed_and_read_by_who_manages_and_nobody_reads_outside_reports(api):
    api.ctx.reports.put("reports/recall-daily/2026-11-23.html", b"<h1>Recall</h1>", "text/html; charset=utf-8")
    api.ctx.reports.put("reports/recall-daily/2026-11-23.csv", b"a,b", "text/csv")
    listed = as_staff(api, "chain-admin", "GET", "/staff/reports")
    assert listed.status == 200 and listed.json()["recall-daily"] == ["reports/recall-daily/2026-11-23.html"]
    page = as_staff(api, "chain-admin", "GET", "/staff/report?key=reports/recall-daily/2026-11-23.html")
    assert page.status == 200 and page.body == "<h1>Recall</h1>" and page.headers["Cache-Control"] == "no-store"
    assert as_staff(api, "boston-front-desk", "GET", "/staff/reports").status == 403
    for key in ("reports/../secrets", "reports/other/x.html", "tenant.yaml"):
        assert as_staff(api, "chain-admin", "GET", f"/staff/report?key={key}").status in (404, 422), key


def test_a_first_sign_in_sets_a_new_password_through_the_consoles_cognito_endpoint(api):
    """What an administrator's new user meets on AWS: a temporary password, then NEW_PASSWORD_REQUIRED."""
    cognito, pool = api.stack.client("cognito-idp"), api.stack.staff_pool
    cognito.admin_create_user(UserPoolId=pool.pool_id, Username="boston-front-desk-2", TemporaryPassword="Temp-pass-2026!",
                              MessageAction="SUPPRESS")
    target = "AWSCognitoIdentityProviderService."
    status, first = cognito_endpoint(cognito, target + "InitiateAuth", json.dumps({
        "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": pool.client_id,
        "AuthParameters": {"USERNAME": "boston-front-desk-2", "PASSWORD": "Temp-pass-2026!"}}))
    assert status == 200 and first["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    status, done = cognito_endpoint(cognito, target + "RespondToAuthChallenge", json.dumps({
        "ChallengeName": "NEW_PASSWORD_REQUIRED", "ClientId": pool.client_id, "Session": first["Session"],
        "ChallengeResponses": {"USERNAME": "boston-front-desk-2", "NEW_PASSWORD": "Own-password-2026!"}}))
    assert status == 200 and done["AuthenticationResult"]["IdToken"]
    status, unknown = cognito_endpoint(cognito, target + "InitiateAuth", json.dumps({
        "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": pool.client_id,
        "AuthParameters": {"USERNAME": "nobody", "PASSWORD": "x"}}))
    assert status == 400 and unknown["__type"] == "NotAuthorizedException"  # no telling which users exist


def test_a_doctors_order_is_assigned_by_the_senior_registrar_and_called_by_the_registrar(api):
    """F4, F6 from the console: the assign task in the senior registrar's queue, the call script's outcome."""
    from revisit import clock
    from revisit.models.entities import LeadStage

    order = api.call("POST", "/orders", {"order_id": "ord-c1", "patient_id": "p-000001", "procedure_id": "crown-check",
                                         "ordered_by": "Dr. Alice Moreno", "due_date": "2027-01-20"})
    assert order.status == 201
    lead_id = order.json()["lead_id"]
    from revisit.offline.driver import Driver

    Driver(api.stack).settle()
    queue = as_staff(api, "boston-senior-reg", "GET", "/staff/clinics/boston/queue?later=true").json()["tasks"]
    [assign] = [t for t in queue if t.get("lead_id") == lead_id]
    assert assign["action"] == "assign" and assign["lead"]["procedure"] == "crown check"
    assert {"boston-reg-1", "boston-reg-2"} <= {r["staff_id"] for r in assign["lead"]["registrars"]}
    assert as_staff(api, "boston-reg-1", "POST", f"/staff/leads/{lead_id}/assignment",
                    {"registrar_id": "boston-reg-1"}).status == 403  # a registrar does not assign
    assert as_staff(api, "madrid-senior-reg", "POST", f"/staff/leads/{lead_id}/assignment",
                    {"registrar_id": "boston-reg-1"}).status == 404  # another clinic's order
    assigned = as_staff(api, "boston-senior-reg", "POST", f"/staff/leads/{lead_id}/assignment",
                        {"registrar_id": "boston-reg-1"})
    assert assigned.status == 200 and assigned.json()["assignee"] == "boston-reg-1" and "notes" not in assigned.json()
    missing = as_staff(api, "boston-reg-1", "POST", f"/staff/leads/{lead_id}/call-outcome", {"outcome": "booked"})
    assert missing.status == 422 and missing.json()["field"] == "starts_at"
    slots = as_staff(api, "boston-reg-1", "GET", f"/staff/leads/{lead_id}/slots").json()
    assert slots["appointment_type"] == "control" and slots["slots"]
    booked = as_staff(api, "boston-reg-1", "POST", f"/staff/leads/{lead_id}/call-outcome",
                      {"outcome": "booked", **{k: slots["slots"][0][k] for k in ("provider_id", "starts_at")}})
    assert booked.status == 200 and booked.json()["stage"] == LeadStage.BOOKED.value
    [appointment] = [a for a in api.ctx.tables.appointments.for_patient("p-000001") if a.appointment_type == "control"]
    assert appointment.booked_by == "boston-reg-1" and appointment.starts_at > clock.now()
    timeline = as_staff(api, "boston-reg-1", "GET", "/staff/patients/p-000001/timeline").json()
    names = {(e["workflow"], e["name"]) for e in timeline["executions"]}
    assert ("referral", f"lead-{lead_id}") in names  # each of the patient's workflows, linked to the console
    assert any(workflow == "appointment" for workflow, _ in names)


def test_new_patients_and_campaigns_for_who_works_them(api):
    """I15 and A8 in the console: a day's new patients per clinic, the campaigns' results (the demo's campaign
    in the screenshots); each for the roles that work them."""
    assert as_staff(api, "boston-front-desk", "GET", "/staff/clinics/boston/new-patients?day=2026-11-23").json() == {
        "clinic_id": "boston", "day": "2026-11-23", "time_zone": "America/New_York", "patients": []}
    assert as_staff(api, "boston-reg-1", "GET", "/staff/clinics/boston/new-patients").status == 403
    assert as_staff(api, "boston-front-desk", "GET", "/staff/clinics/madrid/new-patients").status == 403
    assert as_staff(api, "chain-admin", "GET", "/staff/campaigns").json() == []  # none started in this tenant yet
    assert as_staff(api, "boston-hygienist", "GET", "/staff/campaigns").status == 403


def test_a_visit_booked_from_the_schedule_goes_through_the_booking_service_once(api):
    free = as_staff(api, "boston-front-desk", "GET", "/staff/clinics/boston/availability?appointment_type=recall&day=2026-12-03")
    slot = free.json()[0]
    body = {"patient_id": "p-000001", "clinic_id": "boston", "appointment_type": "recall", **slot}
    token = sign_in(api, "boston-front-desk")
    headers = {"Authorization": token, "Idempotency-Key": "schedule-1"}
    first = api.gateway.request("POST", "/staff/appointments", body, headers)
    again = api.gateway.request("POST", "/staff/appointments", body, headers)  # a double click
    assert first.status == 201 and first.json()["booked_by"] == "boston-front-desk"
    assert again.json()["appointment_id"] == first.json()["appointment_id"]
    assert len(api.ctx.tables.appointments.for_patient("p-000001")) == 1
    assert as_staff(api, "madrid-reg-1", "POST", "/staff/appointments", body).status == 403
    taken = as_staff(api, "boston-front-desk", "POST", "/staff/appointments", body | {"patient_id": "p-000001"})
    assert taken.status == 409
