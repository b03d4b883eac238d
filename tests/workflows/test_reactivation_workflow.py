"""Reactivation end to end (A1-A8, R25, R26): the API, the campaign and reactivation state machines from their
ASL files, the real handlers, the inactive index on moto, the monthly management report."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends
from revisit.models.common import MessageKind
from revisit.models.entities import PatientStatus, RecallItem
from revisit.offline.driver import Driver
from revisit.offline.stack import ACCOUNT, REGION, OfflineStack

from tests.api.conftest import Api
from tests.conftest import DEMO_TENANT, START, make_patient

LONG_AGO = date(2024, 3, 10)  # 32 months before START: inactive (18 months, nothing booked)


def lapsed(patient_id, clinic_id="boston", **overrides):
    return make_patient(patient_id, clinic_id, last_visit=LONG_AGO, status=PatientStatus.INACTIVE,
                        recalls=[RecallItem(recall_type="prophy", last_done=LONG_AGO)], **overrides)


class Reactivation(Api):
    def __init__(self, stack):
        super().__init__(stack)
        self.driver = Driver(stack)
        self.sfn = stack.client("stepfunctions")

    def campaign(self, campaign_id="back-to-smile", **body):
        answer = self.call("POST", "/campaigns", {"campaign_id": campaign_id, "name": "Back to smile",
                                                  "goal_patients": 2, "goal_date": "2027-01-31", **body})
        self.driver.settle()
        return answer

    def results(self, campaign_id="back-to-smile"):
        answer = self.call("GET", f"/campaigns/{campaign_id}")
        assert answer.status == 200, answer.body
        return answer.json()

    def advance(self, days):
        self.driver.run_until(self.stack.clock.now() + timedelta(days=days))

    def emails_to(self, address):
        return [m for m in ses_backends[ACCOUNT][REGION].sent_messages if address in json.dumps(
            getattr(m, "destinations", {}), default=str)]

    def sms_to(self, phone):
        return [text for number, text in sns_backends[ACCOUNT][REGION].sms_messages.values() if number == phone]

    def member(self, patient_id, campaign_id="back-to-smile"):
        return self.ctx.tables.campaigns.member(campaign_id, patient_id)

    def book(self, patient_id, on):
        slots = self.call("GET", f"/clinics/boston/availability?appointment_type=recall&from={on}&to={on}").json()
        slot = slots["slots"][0]
        answer = self.call("POST", "/appointments", {"patient_id": patient_id, "clinic_id": "boston",
                                                     "appointment_type": "recall", "provider_id": slot["provider_id"],
                                                     "starts_at": slot["starts_at"]})
        assert answer.status == 201, answer.body
        return answer.json()["appointment_id"]


@pytest.fixture
def react():
    with OfflineStack(DEMO_TENANT, START) as stack:
        client = Reactivation(stack)
        tables = client.ctx.tables
        tables.patients.save(lapsed("p-000001", email="ana@mail.example.com"))  # email, then books
        tables.patients.save(lapsed("p-000002", email=None, phone="+16172229999"))  # no email: SMS, then the call
        tables.patients.save(lapsed("p-000003", unsubscribed=[MessageKind.MARKETING]))  # refuses campaigns
        tables.patients.save(lapsed("p-000004", email="leo@mail.example.com", treatment="orthodontics"))
        tables.patients.save(make_patient("p-000005"))  # active: never in a campaign
        yield client


def test_inactive_patients_are_listed_counted_and_exported_from_the_index(react):
    """A1, A2: the inactive (no visit for 18 months, nothing booked), with contact details; CSV for staff."""
    listing = react.call("GET", "/clinics/boston/inactive").json()
    assert listing["inactive"] == 4
    assert [p["patient_id"] for p in listing["patients"]] == ["p-000001", "p-000002", "p-000003", "p-000004"]
    assert listing["patients"][0]["email"] == "ana@mail.example.com" and listing["patients"][0]["lapse"] == "24-47 months"
    csv_page = react.call("GET", "/clinics/boston/inactive?format=csv")
    assert csv_page.headers["Content-Type"].startswith("text/csv")
    assert csv_page.body.splitlines()[0].startswith("patient_id,first_name,last_name,phone,email")
    assert len(csv_page.body.splitlines()) == 5
    react.book("p-000004", date(2026, 11, 30))  # a booking takes the patient out of the index
    assert react.call("GET", "/clinics/boston/inactive").json()["inactive"] == 3


def test_a_campaign_walks_each_patient_down_the_chain_and_stops_at_the_first_response(react):
    """A3, A4, A5, A8: email first (the message of the patient's treatment), SMS at once for the patient with no
    email, then the call task; a booking ends the chain (recovered, after the email); a patient who refuses
    campaigns is skipped; the one nobody reaches is 'never reached' after the last link's answer time."""
    answer = react.campaign()
    assert answer.status == 201, answer.body
    react.advance(0.5)
    first_email = react.emails_to("ana@mail.example.com")
    assert len(first_email) == 1
    ortho = react.emails_to("leo@mail.example.com")
    assert len(ortho) == 1 and "orthodontic" in json.dumps(ortho[0].__dict__, default=str).lower()
    assert len(react.sms_to("+16172229999")) == 1  # no email: the SMS link at once
    assert react.member("p-000003").outcome.value == "skipped"
    react.book("p-000001", date(2026, 12, 2))
    react.advance(8)
    assert react.member("p-000001").outcome.value == "recovered"
    assert react.member("p-000001").responded_after.value == "email"
    calls = react.call("GET", "/clinics/boston/tasks?role=front_desk").json()
    assert "reactivation_call" in [t["kind"] for t in calls if t["patient_id"] == "p-000002"]
    react.advance(30)
    results = react.results()
    assert results["outcomes"]["recovered"] == 1 and results["outcomes"]["skipped"] == 1
    assert results["outcomes"]["never_reached"] == 2  # p-000002 (SMS, call) and p-000004 (email, SMS, call)
    assert results["goal_reached"] == 0.5 and results["responses_by_link"] == {"email": 1}
    assert results["contacted_by_channel"]["email"] == 2 and results["contacted_by_channel"]["sms"] >= 1
    executions = react.sfn.list_executions(stateMachineArn=react.stack.state_machine_arns["reactivation"])["executions"]
    assert sorted(e["name"] for e in executions) == [f"react-back-to-smile-p-00000{n}" for n in (1, 2, 3, 4)]
    assert {e["status"] for e in executions} == {"SUCCEEDED"}
    from revisit.services import staff_console  # the staff console's timeline links each patient's chain

    admin = react.ctx.config.staff_member("chain-admin")
    timeline = staff_console.timeline(react.ctx, admin, "p-000004")
    assert ("reactivation", "react-back-to-smile-p-000004") in {(e.workflow, e.name) for e in timeline.executions}


def test_the_teams_observation_ends_a_patients_chain_as_a_response(react):
    """A6: the team records what a contacted patient said; an answer ends their chain."""
    react.campaign()
    react.advance(0.5)
    answer = react.call("POST", "/campaigns/back-to-smile/patients/p-000004/observations",
                        {"note": "moved to another city, will call when back", "responded": True})
    assert answer.status == 200, answer.body
    assert answer.json()["outcome"] == "responded"
    react.advance(10)
    assert react.member("p-000004").outcome.value == "responded"
    assert react.results()["outcomes"]["responded"] == 1


def test_bad_campaigns_are_4xx_naming_the_field(react):
    def field(answer):
        return answer.status, answer.json().get("field")

    assert field(react.campaign(goal_date="2026-11-01")) == (422, "goal_date")
    assert field(react.campaign(clinics=["atlantis"])) == (422, "clinics")
    assert field(react.campaign(age_bands=["30-40"])) == (422, "age_bands")
    assert field(react.campaign(clinics=["madrid"])) == (422, "segment")  # no inactive patient there
    assert react.campaign().status == 201
    assert field(react.campaign("second", treatments=["orthodontics"])) == (422, "segment")  # overlaps the first
    assert react.campaign(name="Other name").status == 409
    assert react.call("GET", "/campaigns/nope").status == 404


def test_the_daily_list_has_todays_agenda_tomorrows_unconfirmed_and_the_reactivation_calls(react):
    """A7."""
    react.book("p-000005", date(2026, 11, 24))
    daily = react.call("GET", "/clinics/boston/daily-list").json()
    assert [a["patient_id"] for a in daily["unconfirmed_tomorrow"]] == ["p-000005"]
    assert daily["planned_unscheduled_treatment"] == []


def test_the_monthly_management_report_counts_recall_calls_per_clinic_and_caller(react):
    """R26, A1, A8: the figures match what the test recorded; the inactive count is the nightly one."""
    from revisit.models.common import Role
    from revisit.models.entities import StaffTask, TaskKind, TaskPriority

    tables = react.ctx.tables
    for n, result in enumerate(["booked", "no_answer", "declined", "booked"]):
        tables.tasks.create(StaffTask(task_id=f"recall-call-{n}", kind=TaskKind.RECALL_CALL, role=Role.FRONT_DESK,
                                      clinic_id="boston", priority=TaskPriority.HIGH, title="call",
                                      due_at=START, created_at=START))
        body = {"result": result, "staff_id": "boston-reg-1"} | ({"reason": "cost"} if result == "declined" else {})
        assert react.call("POST", f"/tasks/recall-call-{n}/call-outcome", body).status == 200
    assert react.call("POST", "/tasks/recall-call-0/call-outcome", {"result": "booked", "staff_id": "nobody"}).json()[
        "field"] == "staff_id"
    react.campaign()
    react.driver.run_until(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    s3 = react.stack.client("s3")
    body = s3.get_object(Bucket=react.stack.names["bucket"], Key="reports/management-monthly/2026-11.json")["Body"]
    report = json.loads(body.read())
    assert report["by_clinic"]["boston"]["calls"] == {"calls": 4, "reached": 3, "booked": 2, "reached_rate": 0.75,
                                                      "success_rate": 0.5}
    assert report["by_caller"]["boston-reg-1"]["calls"] == 4
    assert report["by_clinic"]["boston"]["inactive_at_start"] == 4  # the first night's count
    assert [c["campaign_id"] for c in report["campaigns"]] == ["back-to-smile"]
    page = s3.get_object(Bucket=react.stack.names["bucket"], Key="reports/management-monthly/2026-11.html")
    assert "<svg" in page["Body"].read().decode()


def test_a_reply_or_a_call_that_reaches_the_patient_ends_the_chain_and_its_open_call(react):
    """An SMS reply is an answer (STOP: an opt-out); a reactivation call that reaches the patient too, and the
    call task of a patient whose chain ended is closed."""
    from revisit.services import replies

    react.campaign()
    react.advance(0.5)
    replies.handle_reply(react.ctx, "+16172229999", "STOP", "m-stop-1")  # p-000002, who got the SMS
    react.advance(8)
    assert react.member("p-000002").outcome.value == "opted_out"
    react.advance(7)
    queue = react.call("GET", "/clinics/boston/tasks?role=front_desk").json()
    calls = {t["patient_id"]: t for t in queue if t["kind"] == "reactivation_call"}
    assert "p-000002" not in calls and "p-000004" in calls  # p-000004: email, SMS, now the call
    task = calls["p-000004"]["task_id"]
    answer = react.call("POST", f"/tasks/{task}/call-outcome", {"result": "call_back", "staff_id": "boston-reg-1"})
    assert answer.status == 200, answer.body
    assert react.member("p-000004").outcome.value == "responded"
    assert react.call("POST", f"/tasks/{task}/call-outcome", {"result": "call_back", "staff_id": "madrid-reg-1"}
                      ).json()["field"] == "staff_id"  # another clinic's


def test_a_page_token_that_is_not_this_lists_is_a_422_and_an_opt_out_leaves_the_list(react):
    assert react.call("GET", "/clinics/boston/inactive?after=garbage").json()["field"] == "after"
    first = react.call("GET", "/clinics/boston/inactive?limit=1").json()
    assert react.call("GET", f"/clinics/madrid/inactive?after={first['next']}").json()["field"] == "after"
    assert react.call("PATCH", "/patients/p-000001", {"opted_out": True}).status == 200
    assert "p-000001" not in [p["patient_id"] for p in react.call("GET", "/clinics/boston/inactive").json()["patients"]]


def test_a_link_that_fails_for_good_releases_the_patient_and_fails_the_execution_visibly(react):
    from revisit.adapters import dynamo_keys

    react.campaign()
    react.advance(0.5)
    react.stack.table.delete_item(Key=dynamo_keys.patient("p-000004"))  # the next link cannot read the patient
    react.advance(8)
    member = react.member("p-000004")
    assert (member.outcome.value, member.detail) == ("skipped", "a link failed after its retries (see the execution)")
    assert react.ctx.tables.campaigns.lock("p-000004", "another-campaign")  # released
    arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:revisit-demo-reactivation:react-back-to-smile-p-000004"
    described = react.sfn.describe_execution(executionArn=arn)
    assert (described["status"], described["error"]) == ("FAILED", "ReactivationFailed")


def test_a_booking_made_on_the_campaigns_call_counts_as_recovered_by_the_call(react):
    react.campaign()
    react.advance(15)  # p-000004: email, SMS, then the call
    task = next(t for t in react.call("GET", "/clinics/boston/tasks?role=front_desk").json()
                if t["kind"] == "reactivation_call" and t["patient_id"] == "p-000004")
    react.book("p-000004", date(2026, 12, 16))
    assert react.call("POST", f"/tasks/{task['task_id']}/call-outcome", {"result": "booked"}).status == 200
    react.advance(8)
    member = react.member("p-000004")
    assert (member.outcome.value, member.responded_after.value) == ("recovered", "call_task")


def test_a_recall_call_that_books_is_counted_even_when_its_booking_closed_the_task_first(react):
    """R26: the front desk books during the call (the booking ends the recall and cancels the call task), then
    records the call: it counts once, as booked."""
    from revisit.models.common import Role
    from revisit.models.entities import StaffTask, TaskKind, TaskPriority, TaskStatus

    tables = react.ctx.tables
    tables.tasks.create(StaffTask(task_id="recall-call-x", kind=TaskKind.RECALL_CALL, role=Role.FRONT_DESK,
                                  clinic_id="boston", priority=TaskPriority.HIGH, title="call", due_at=START,
                                  created_at=START))
    tables.tasks.close("recall-call-x", TaskStatus.CANCELLED, START, reason="cycle Booked")
    for _ in range(2):
        assert react.call("POST", "/tasks/recall-call-x/call-outcome", {"result": "booked"}).status == 200
    day = tables.daily_counts.day("boston", START.date())
    assert (day["recall_calls"], day["recall_calls_booked"]) == (1, 1)
    assert tables.tasks.get("recall-call-x").result.value == "booked"
