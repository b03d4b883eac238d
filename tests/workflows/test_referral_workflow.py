"""Referral follow-up end to end (F1-F11): the booking API's routes, the referral state machine from its ASL
file, the real handlers, and the booking API's events delivered by the rule on the tenant's bus to the
referral_events queue (moto matches the pattern; the driver plays Lambda's queue poller)."""

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from moto.ses.models import ses_backends
from revisit.offline.driver import Driver
from revisit.offline.stack import ACCOUNT, REGION, OfflineStack
from revisit.services import booking

from tests.api.conftest import Api
from tests.conftest import DEMO_TENANT, START, make_patient

# Monday 23 November 2026, 12:00 UTC; Boston (America/New_York) calls at 10:00 on working days (Mon-Fri).
REGISTRAR = "boston-reg-1"


class Referral(Api):
    def __init__(self, stack):
        super().__init__(stack)
        self.driver = Driver(stack)
        self.sfn = stack.client("stepfunctions")

    def order(self, order_id="ord-1", due=date(2026, 12, 11), procedure="crown-check", patient="p-000001", **extra):
        answer = self.call("POST", "/orders", {"order_id": order_id, "patient_id": patient, "procedure_id": procedure,
                                               "ordered_by": "Dr. Alice Moreno", "due_date": due.isoformat(), **extra})
        self.driver.settle()
        return answer

    def lead(self, lead_id="ord-1"):
        answer = self.call("GET", f"/leads/{lead_id}")
        assert answer.status == 200, answer.body
        return answer.json()

    def stage(self, lead_id="ord-1"):
        return self.lead(lead_id)["lead"]["stage"]

    def assign(self, lead_id="ord-1", registrar=REGISTRAR):
        answer = self.call("POST", f"/leads/{lead_id}/assignment", {"registrar_id": registrar,
                                                                    "assigned_by": "boston-senior-reg"})
        self.driver.settle()
        return answer

    def outcome(self, lead_id="ord-1", **body):
        answer = self.call("POST", f"/leads/{lead_id}/call-outcome", {"registrar_id": REGISTRAR, **body})
        self.driver.settle()
        return answer

    def until(self, moment: datetime):
        self.driver.run_until(moment)

    def book(self, patient="p-000001", on=date(2026, 12, 2)):
        slots = self.call("GET", f"/clinics/boston/availability?appointment_type=control&from={on}&to={on}").json()
        slot = slots["slots"][0]
        answer = self.call("POST", "/appointments", {"patient_id": patient, "clinic_id": "boston",
                                                     "appointment_type": "control", "provider_id": slot["provider_id"],
                                                     "starts_at": slot["starts_at"]})
        assert answer.status == 201, answer.body
        self.driver.settle()
        return answer.json()["appointment_id"]

    def appointment_call(self, appointment_id, action, body=None, patient="p-000001"):
        answer = self.call("POST", f"/patients/{patient}/appointments/{appointment_id}/{action}", body)
        assert answer.status in (200, 201), answer.body
        self.driver.settle()
        return answer

    def pay(self, appointment_id, payment_id="pay-1"):
        return self.appointment_call(appointment_id, "payments", {"payment_id": payment_id, "amount": "80.00",
                                                                  "currency": "USD", "method": "card"})

    def execution(self, lead_id="ord-1"):
        arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:revisit-demo-referral:lead-{lead_id}"
        return self.sfn.describe_execution(executionArn=arn)

    def calls_due(self, day: date, registrar=REGISTRAR):
        answer = self.call("GET", f"/registrars/{registrar}/calls?date={day}")
        assert answer.status == 200, answer.body
        return answer.json()

    def registrar_emails(self):
        return [m for m in ses_backends[ACCOUNT][REGION].sent_messages
                if "reg1.boston@smilecircle.example.com" in json.dumps(m.destinations, default=str)]

    def events(self, lead_id="ord-1"):
        return [(e["event"], e["stage_after"], e["applied"]) for e in self.lead(lead_id)["timeline"]]


@pytest.fixture
def referral():
    with OfflineStack(DEMO_TENANT, START) as stack:
        client = Referral(stack)
        client.ctx.tables.patients.save(make_patient("p-000001"))
        client.ctx.tables.patients.save(make_patient("p-000002"))
        yield client


def call_day(day: date) -> datetime:
    """10:00 in Boston (EST, UTC-5) on `day`, and a minute after."""
    return datetime(day.year, day.month, day.day, 15, 1, tzinfo=UTC)


def test_an_order_becomes_a_lead_with_its_comment_call_day_and_a_waiting_execution(referral):
    """F1, F2, F3: the lead, its comment, the call reminder two days before the due date moved to the
    previous working day, the senior registrar's task, an execution named after the lead."""
    answer = referral.order(due=date(2026, 12, 14))  # a Monday: two days before is Saturday -> Friday 11th
    assert answer.status == 201, answer.body
    lead = answer.json()
    assert lead["stage"] == "new" and lead["execution_name"] == "lead-ord-1"
    assert lead["comment"] == "Dr. Alice Moreno ordered a crown check by December 14, 2026."
    assert lead["call_at"] == "2026-12-11T10:00:00-05:00"  # 10:00 in Boston
    assert referral.execution()["status"] == "RUNNING"
    tasks = referral.call("GET", "/clinics/boston/tasks?role=senior_registrar").json()
    assert [(t["kind"], t["lead_id"]) for t in tasks] == [("assign_lead", "ord-1")]
    unassigned = referral.call("GET", "/clinics/boston/leads?stage=new").json()
    assert [item["lead_id"] for item in unassigned] == ["ord-1"]
    again = referral.order(due=date(2026, 12, 14))  # the same order again: its lead, once
    assert again.status == 200 and again.json()["lead_id"] == "ord-1"
    other = referral.order(due=date(2026, 12, 20))
    assert other.status == 409


def test_booked_on_the_call_then_paid_is_a_success(referral):
    """F4 F5 F6 F7 F8 F9: assigned, called on the call day (queue and email), booked during the call through
    the booking API (its event moves the lead), the call's answers make the comment, paid: success."""
    referral.order(due=date(2026, 12, 4))  # call day: Wednesday 2 December
    assert referral.assign().status == 200
    assert referral.stage() == "assigned"
    assert referral.calls_due(date(2026, 12, 2)) == []  # not in the queue before its day
    referral.until(call_day(date(2026, 12, 2)))
    calls = referral.calls_due(date(2026, 12, 2))
    assert [(c["kind"], c["lead_id"], c["assignee"]) for c in calls] == [("referral_call", "ord-1", REGISTRAR)]
    emails = referral.registrar_emails()
    assert len(emails) == 1 and "ord-1" in json.dumps(emails[0].__dict__, default=str)
    appointment = referral.book(on=date(2026, 12, 4))
    assert referral.stage() == "booked"  # F7: the booking event, before the registrar records the call
    answer = referral.outcome(outcome="booked", appointment_id=appointment)
    assert answer.status == 200, answer.body
    assert "Call 1: reached; booked the crown check for Friday, December 4, 2026" in answer.json()["comment"]
    assert referral.calls_due(date(2026, 12, 2)) == []  # the call is done
    referral.pay(appointment)
    assert referral.stage() == "success"
    assert referral.execution()["status"] == "SUCCEEDED"
    assert [e[0] for e in referral.events() if e[2]][:1] == ["ordered"]
    assert ("appointment_booked", "booked", True) in referral.events()
    assert ("appointment_paid", "success", True) in referral.events()


def test_a_refusal_fails_the_lead_with_its_reason_and_a_late_booking_changes_nothing(referral):
    """F6, F11: not booked, with a reason from the tenant's list; the lead is final."""
    referral.order(due=date(2026, 12, 4))
    referral.assign()
    referral.until(call_day(date(2026, 12, 2)))
    answer = referral.outcome(outcome="refused", refusal_reason="cost", wants_contact_later=True)
    assert answer.status == 200, answer.body
    lead = answer.json()
    assert (lead["stage"], lead["refusal_reason"]) == ("failed", "cost")
    assert "not booked: cost. Asks to be contacted later." in lead["comment"]
    assert referral.execution()["status"] == "SUCCEEDED"  # a business outcome, not an execution failure
    referral.book(on=date(2026, 12, 4))  # the patient books after all: recorded, the lead stays failed
    assert referral.stage() == "failed"
    assert ("appointment_booked", "failed", False) in referral.events()
    assert referral.outcome(outcome="no_answer").status == 409  # no call outcome for a final lead


def test_a_no_show_sends_the_lead_back_to_its_registrar_with_a_new_call_then_rebooked_and_paid(referral):
    """F10: the patient booked (even before the call), missed the visit: back to Assigned, a new call
    reminder, the call comes, rebooked on it, paid."""
    referral.order(due=date(2026, 12, 11))
    referral.assign()
    first = referral.book(on=date(2026, 11, 25))  # the patient books on their own
    assert referral.stage() == "booked"
    referral.until(datetime(2026, 11, 25, 23, 0, tzinfo=UTC))  # after the visit's time
    referral.appointment_call(first, "no-show")
    lead = referral.lead()["lead"]
    assert (lead["stage"], lead["appointment_id"]) == ("assigned", None)
    assert lead["call_at"] == "2026-11-26T10:00:00-05:00"  # the next working day's call time
    referral.until(call_day(date(2026, 11, 26)))
    assert [c["lead_id"] for c in referral.calls_due(date(2026, 11, 26))] == ["ord-1"]
    second = referral.book(on=date(2026, 11, 30))
    referral.outcome(outcome="booked", appointment_id=second)
    referral.pay(second)
    assert referral.stage() == "success" and referral.execution()["status"] == "SUCCEEDED"
    stages = [e[1] for e in referral.events() if e[2] and e[0] != "waiting"]
    assert stages == ["new", "assigned", "booked", "assigned", "booked", "booked", "success"]


def test_a_patient_never_reached_fails_after_the_tenants_attempts_a_working_day_apart(referral):
    """F6: no answer, tried again the next working day, three calls, then Failed 'never reached'."""
    referral.order(due=date(2026, 12, 4))
    referral.assign()
    days = [date(2026, 12, 2), date(2026, 12, 3), date(2026, 12, 4)]
    for attempt, day in enumerate(days, start=1):
        referral.until(call_day(day))
        assert [c["lead_id"] for c in referral.calls_due(day)] == ["ord-1"], attempt
        lead = referral.outcome(outcome="no_answer").json()
        assert lead["call_attempts"] == attempt
    assert (lead["stage"], lead["refusal_reason"]) == ("failed", "never-reached")
    assert "Call 3 of 3: no answer. Never reached" in lead["comment"]
    assert len(referral.registrar_emails()) == 3  # one per call
    assert referral.execution()["status"] == "SUCCEEDED"


def test_repeated_and_out_of_order_events_change_nothing_twice(referral):
    """The same event delivered twice is applied once (the second is recorded); a payment seen before its
    booking's event ends the lead (a payment proves the booking); the late booking event is then a no-op."""
    referral.order(due=date(2026, 12, 11))
    referral.assign()
    appointment = referral.book(on=date(2026, 11, 30))
    stored = referral.ctx.tables.appointments.get("p-000001", appointment)
    detail = {"tenant_id": "demo", **stored.model_dump(mode="json", include={
        "appointment_id", "patient_id", "clinic_id", "provider_id", "appointment_type", "starts_at", "status"})}
    events = referral.stack.client("events")
    events.put_events(Entries=[{"Source": "revisit.appointments", "DetailType": "AppointmentBooked",
                                "Detail": json.dumps(detail), "EventBusName": "revisit-demo"}])
    referral.driver.settle()
    assert ("appointment_booked", "booked", False) in referral.events()  # the duplicate, recorded
    # Out of order through the bus, on another lead: booked and paid with no event published, then the
    # payment's event delivered before the booking's.
    referral.order(order_id="ord-2", patient="p-000002", due=date(2026, 12, 11))
    quiet = dataclasses.replace(referral.ctx, events=None)
    slot = booking.availability(quiet, "boston", "control", date(2026, 12, 2), date(2026, 12, 2)).slots[0]
    booked = booking.book(quiet, booking.BookingRequest("p-000002", "boston", "control", slot.provider_id,
                                                        slot.starts_at), "front-desk").appointment
    booking.record_payment(quiet, "p-000002", booked.appointment_id, "pay-2", Decimal("80.00"), "USD", "card")
    second = {"tenant_id": "demo", **booked.model_dump(mode="json", include={
        "appointment_id", "patient_id", "clinic_id", "provider_id", "appointment_type", "starts_at", "status"})}
    for detail_type in ("AppointmentPaid", "AppointmentBooked"):
        events.put_events(Entries=[{"Source": "revisit.appointments", "DetailType": detail_type,
                                    "Detail": json.dumps(second), "EventBusName": "revisit-demo"}])
        referral.driver.settle()
    assert referral.stage("ord-2") == "success"  # a payment proves its booking
    assert [e for e in referral.events("ord-2") if e[0].startswith("appointment")] == [
        ("appointment_paid", "success", True), ("appointment_booked", "success", False)]
    assert referral.execution("ord-2")["status"] == "SUCCEEDED"


def test_a_cancelled_booking_goes_back_to_a_call_unless_the_patient_holds_another(referral):
    """F10 with a cancellation: the lead follows the patient's other booking of the procedure if there is
    one; otherwise it goes back to its registrar with a call the next working day. A fee paid for a missed
    visit is not the procedure done."""
    referral.order(due=date(2026, 12, 11))
    referral.assign()
    first = referral.book(on=date(2026, 11, 30))
    second = referral.book(on=date(2026, 12, 2))
    assert referral.lead()["lead"]["appointment_id"] == first
    assert ("appointment_booked", "booked", False) in referral.events()  # the second: the lead is booked on the first
    referral.appointment_call(first, "cancel", {"reason": "patient called"})
    lead = referral.lead()["lead"]
    assert (lead["stage"], lead["appointment_id"]) == ("booked", second)
    referral.appointment_call(second, "cancel", {"reason": "patient called"})
    lead = referral.lead()["lead"]
    assert (lead["stage"], lead["appointment_id"]) == ("assigned", None)
    assert lead["call_at"] == "2026-11-23T10:00:00-05:00"  # today: 07:00 in Boston, the call time is ahead
    third = referral.book(on=date(2026, 11, 25))
    referral.until(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    referral.appointment_call(third, "no-show")
    referral.pay(third, "fee-1")  # a no-show fee
    assert referral.stage() == "assigned"
    assert ("appointment_paid", "assigned", False) in referral.events()


def test_an_order_a_credential_may_not_see_is_an_unknown_patient_and_an_order_id_is_one_lead(referral):
    from revisit.api.auth import CredentialStore

    _, madrid_only = CredentialStore(referral.stack.tables.credentials).issue(
        "madrid-desk", "demo", rate_per_second=1000, clinics=["madrid"])
    answer = referral.call("POST", "/orders", {"order_id": "ord-9", "patient_id": "p-000001",
                                               "procedure_id": "crown-check", "ordered_by": "Dr. X",
                                               "due_date": "2026-12-11"}, token=madrid_only)
    assert (answer.status, answer.json()["field"]) == (422, "patient_id")
    assert referral.order().status == 201
    taken = referral.order(patient="p-000002")  # the same order id for another patient
    assert taken.status == 409
    assert referral.lead()["lead"]["patient_id"] == "p-000001"
    assert len(referral.call("GET", "/clinics/boston/leads?stage=new").json()) == 1


def test_a_wait_that_finds_its_lead_moved_on_answers_its_own_token_at_once(referral):
    """The lead changed between two states of its execution: the wait does not store its token (nobody
    would answer it); it answers it itself with where the lead is now."""
    referral.order(due=date(2026, 12, 11))
    referral.assign()
    answer = referral.stack.lambdas.invoke(FunctionName="revisit-demo-await-lead", Payload=json.dumps({
        "execution_name": "lead-ord-1", "lead_id": "ord-1", "waiting_for": "assignment",
        "token": "a-token-no-execution-waits-on"}).encode())
    assert json.loads(answer["Payload"].read()) == {"waiting": False, "stage": "assigned"}
    assert referral.lead()["lead"]["stage"] == "assigned"


def test_bad_orders_outcomes_and_assignments_are_4xx_naming_the_field_and_change_nothing(referral):
    def field(answer):
        return answer.status, answer.json().get("field")

    assert field(referral.order(due=date(2026, 11, 1))) == (422, "due_date")
    assert field(referral.order(procedure="root-canal")) == (422, "procedure_id")
    assert field(referral.order(patient="p-404")) == (422, "patient_id")
    assert referral.call("GET", "/clinics/boston/leads?stage=new").json() == []
    referral.order()
    assert referral.outcome(outcome="no_answer").status == 409  # New: not being called yet
    assert field(referral.assign(registrar="boston-lead")) == (422, "registrar_id")  # a dentist
    assert field(referral.assign(registrar="madrid-reg-1")) == (422, "registrar_id")  # another clinic's
    referral.assign()
    assert field(referral.outcome(outcome="refused", refusal_reason="astrology")) == (422, "refusal_reason")
    assert field(referral.outcome(outcome="booked")) == (422, "appointment_id")
    assert field(referral.outcome(outcome="booked", appointment_id="a-404")) == (422, "appointment_id")
    assert referral.stage() == "assigned"
    assert referral.call("GET", "/leads/nope").status == 404
    assert referral.call("GET", "/registrars/nobody/calls").status == 404


def test_leads_past_their_due_date_are_listed_for_the_clinic(referral):
    referral.order(due=date(2026, 11, 27))
    referral.order(order_id="ord-2", due=date(2026, 12, 20))
    referral.until(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
    late = referral.call("GET", "/clinics/boston/leads/past-due").json()
    assert [lead["lead_id"] for lead in late] == ["ord-1"]


def test_the_monthly_report_counts_last_months_leads_by_stage_reason_and_registrar(referral):
    """On 1 December the schedule writes November's report (CSV, JSON, HTML with its chart) to S3."""
    referral.order(due=date(2026, 12, 4))
    referral.order(order_id="ord-2", patient="p-000002", due=date(2026, 12, 4))
    referral.assign()
    referral.assign("ord-2")
    appointment = referral.book(on=date(2026, 11, 25))
    referral.until(call_day(date(2026, 11, 26)) - timedelta(hours=2))
    referral.pay(appointment)
    referral.until(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    s3 = referral.stack.client("s3")
    body = s3.get_object(Bucket=referral.stack.names["bucket"], Key="reports/referral-monthly/2026-11.json")["Body"]
    report = json.loads(body.read())
    assert report["month"] == "2026-11" and report["figures"]["leads"] == 2
    assert report["figures"]["by_stage"]["success"] == 1 and report["figures"]["conversion"] == 0.5
    assert report["by_registrar"][REGISTRAR]["leads"] == 2
    html = s3.get_object(Bucket=referral.stack.names["bucket"], Key="reports/referral-monthly/2026-11.html")
    page = html["Body"].read().decode()
    assert "<svg" in page and "Dr. Alice Moreno" not in page  # ids and stages, not who ordered
