"""X7 confirmation status, X8 reminders on the patient's channels and the missed-appointment message, X9 the
withdrawn invitation, through the offline API Gateway and the Appointment state machine in virtual time."""

import json
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

from icalendar import Calendar
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends
from revisit.offline.driver import Driver
from revisit.offline.stack import ACCOUNT, REGION
from revisit.topology import function_name

from tests.conftest import make_patient

# Booked Monday 2026-11-23 07:00 Boston for Tuesday 24 November 10:00: tomorrow, for the front desk.
TOMORROW = {"patient_id": "p-000001", "clinic_id": "boston", "appointment_type": "recall",
            "provider_id": "boston-hyg-1", "starts_at": "2026-11-24T10:00:00-05:00"}
WINDOW_OPEN = datetime.fromisoformat("2026-11-23T14:05:00+00:00")


def texts_to(phone):
    return [text for to, text in sns_backends[ACCOUNT][REGION].sms_messages.values() if to == phone]


def emails_to(address):
    """Raw emails parsed; simple ones (no attachment, no unsubscribe link) as a message with their subject."""
    found = []
    for message in ses_backends[ACCOUNT][REGION].sent_messages:
        raw = getattr(message, "raw_data", None)
        if raw is None:
            parsed = EmailMessage()
            parsed["To"], parsed["Subject"] = ", ".join(message.destinations["ToAddresses"]), message.subject
        else:
            parsed = message_from_bytes(raw if isinstance(raw, bytes) else raw.encode(), policy=policy.default)
        if address in str(parsed["To"]):
            found.append(parsed)
    return found


def reply(api, text, phone, message_id):
    event = {"Records": [{"Sns": {"MessageId": f"sns-{message_id}", "Message": json.dumps({
        "originationNumber": phone, "destinationNumber": "+18005550100", "messageBody": text,
        "inboundMessageId": message_id})}}]}
    answer = api.stack.lambdas.invoke(FunctionName=function_name("demo", "inbound_sms"), Payload=json.dumps(event))
    return json.loads(answer["Payload"].read())["handled"]


def book(api, patient, starts_at):
    api.ctx.tables.patients.save(patient)
    answer = api.call("POST", "/appointments", {**TOMORROW, "patient_id": patient.patient_id, "starts_at": starts_at})
    assert answer.status == 201, answer.body
    return answer.json()


def test_the_front_desks_morning_list_follows_sends_replies_and_staff(api):
    driver = Driver(api.stack)
    confirmer = book(api, make_patient("p-000011", phone="+16172220011"), "2026-11-24T09:00:00-05:00")
    decliner = book(api, make_patient("p-000012", phone="+16172220012"), "2026-11-24T10:00:00-05:00")
    silent = book(api, make_patient("p-000013", phone="+16172220013"), "2026-11-24T11:00:00-05:00")
    unreachable = book(api, make_patient("p-000014", phone=None, email=None), "2026-11-24T12:00:00-05:00")
    listed = api.call("GET", "/clinics/boston/appointments/unconfirmed")
    assert listed.status == 200 and [a["confirmation"] for a in listed.json()] == ["unconfirmed"] * 4
    driver.run_until(WINDOW_OPEN)
    assert reply(api, "C", "+16172220011", "x-1") == ["confirm"]
    assert reply(api, "no", "+16172220012", "x-2") == ["decline"]
    listed = {a["appointment_id"]: a["confirmation"] for a in api.call("GET", "/clinics/boston/appointments/unconfirmed").json()}
    assert listed == {decliner["appointment_id"]: "declined", silent["appointment_id"]: "sent",
                      unreachable["appointment_id"]: "failed"}
    declined = [t for t in api.ctx.tables.tasks.open_queue("boston", "front_desk") if t.kind == "appointment_declined"]
    assert [t.patient_id for t in declined] == ["p-000012"]
    path = f"/patients/p-000013/appointments/{silent['appointment_id']}/confirmation"
    assert api.call("POST", path, {"status": "confirmed"}).json()["confirmation"] == "confirmed"
    assert api.call("POST", path, {"status": "sent"}).json()["field"] == "status"
    listed = api.call("GET", "/clinics/boston/appointments/unconfirmed?date=2026-11-24").json()
    assert [a["patient_id"] for a in listed] == ["p-000012", "p-000014"]
    assert api.call("GET", "/clinics/boston/appointments/unconfirmed?date=2026-11-25").json() == []
    assert api.call("GET", "/clinics/nowhere/appointments/unconfirmed").status == 404
    assert api.call("GET", "/clinics/boston/appointments/unconfirmed?date=tomorrow").json()["field"] == "date"
    stored = api.ctx.tables.appointments.get("p-000011", confirmer["appointment_id"])
    assert stored.confirmation == "confirmed" and stored.confirmed_at is not None


def test_without_sms_consent_the_reminder_comes_by_email(api):
    driver = Driver(api.stack)
    patient = make_patient("p-000021", phone="+16172220021", sms_consent=False, email="e21@mail.example.com")
    book(api, patient, "2026-12-02T10:00:00-05:00")
    driver.run_until(datetime.fromisoformat("2026-12-02T14:00:00+00:00"))
    assert texts_to("+16172220021") == []
    subjects = [str(m["Subject"]) for m in emails_to("e21@mail.example.com")]
    assert len(subjects) == 2 and subjects[0].startswith("Your check-up and cleaning") \
        and subjects[1].startswith("Reminder: your check-up and cleaning")


def test_a_no_show_gets_one_missed_appointment_message_when_the_window_opens(api):
    driver = Driver(api.stack)
    booked = book(api, make_patient("p-000031", phone="+16172220031"), "2026-11-24T10:00:00-05:00")
    driver.run_until(datetime.fromisoformat("2026-11-25T02:00:00+00:00"))  # Tuesday 21:00 Boston
    marked = api.call("POST", f"/patients/p-000031/appointments/{booked['appointment_id']}/no-show")
    assert marked.status == 200
    driver.run_until(datetime.fromisoformat("2026-11-25T13:59:00+00:00"))
    assert not any("missed you" in t for t in texts_to("+16172220031"))
    driver.run_until(datetime.fromisoformat("2026-11-26T00:00:00+00:00"))
    missed = [t for t in texts_to("+16172220031") if "missed you" in t]
    assert len(missed) == 1 and "Call +16175550100" in missed[0]


def test_a_cancelled_appointment_withdraws_its_invitation_with_the_same_uid(api):
    driver = Driver(api.stack)
    booked = book(api, make_patient("p-000041", phone="+16172220041", email="e41@mail.example.com"),
                  "2026-12-02T10:00:00-05:00")
    driver.run_until(WINDOW_OPEN)
    api.call("POST", f"/patients/p-000041/appointments/{booked['appointment_id']}/cancel", {"reason": "ill"})
    driver.run_until(datetime.fromisoformat("2026-11-24T00:00:00+00:00"))
    invites = []
    for message in emails_to("e41@mail.example.com"):
        [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        invites.append((part.get_param("method"), Calendar.from_ical(part.get_payload(decode=True))))
    assert [method for method, _ in invites] == ["REQUEST", "CANCEL"]
    request, cancel = (calendar.walk("VEVENT")[0] for _, calendar in invites)
    assert cancel["UID"] == request["UID"] and int(cancel["SEQUENCE"]) > int(request["SEQUENCE"])
    assert cancel["STATUS"] == "CANCELLED" and invites[1][1]["METHOD"] == "CANCEL"
    assert cancel.decoded("DTSTART") == request.decoded("DTSTART")  # the same instant, in America/New_York
    assert len(texts_to("+16172220041")) == 1  # only the confirmation: a cancellation is not texted


def test_a_patient_who_said_no_is_not_asked_again_and_a_confirmed_one_is_not_asked_to_confirm(api):
    driver = Driver(api.stack)
    sedation = {**TOMORROW, "appointment_type": "sedation", "provider_id": "boston-dds-1"}
    for patient_id, phone in (("p-000071", "+16172220071"), ("p-000072", "+16172220072")):
        api.ctx.tables.patients.save(make_patient(patient_id, phone=phone))
        assert api.call("POST", "/appointments", {**sedation, "patient_id": patient_id,
                                                  "starts_at": f"2026-12-09T{8 + 2 * int(patient_id[-1]):02d}:00:00-05:00"}).status == 201
    driver.run_until(WINDOW_OPEN)
    assert reply(api, "N", "+16172220071", "d-1") == ["decline"]
    assert reply(api, "Yes, I will come", "+16172220072", "d-2") == ["confirm"]
    driver.run_until(datetime.fromisoformat("2026-12-10T17:00:00+00:00"))
    assert len(texts_to("+16172220071")) == 1  # the confirmation only: no reminder, no instructions
    later = texts_to("+16172220072")[1:]
    assert len(later) == 4 and all("Reply C" not in text for text in later)  # 7d, 2d, 2h reminders + instructions


def test_a_no_show_or_completion_before_the_visit_starts_is_refused(api):
    booked = book(api, make_patient("p-000081", phone="+16172220081"), "2026-11-24T10:00:00-05:00")
    path = f"/patients/p-000081/appointments/{booked['appointment_id']}"
    for action in ("no-show", "complete"):
        answer = api.call("POST", f"{path}/{action}")
        assert answer.status == 409 and "before then" in answer.json()["error"], action
    assert api.call("GET", path).json()["status"] == "booked"


def test_an_email_only_patient_stays_unconfirmed_for_the_front_desk(api):
    driver = Driver(api.stack)
    booked = book(api, make_patient("p-000091", phone=None, email="e91@mail.example.com"), "2026-11-24T13:00:00-05:00")
    driver.run_until(WINDOW_OPEN)
    assert len(emails_to("e91@mail.example.com")) == 1
    listed = {a["appointment_id"]: a["confirmation"] for a in api.call("GET", "/clinics/boston/appointments/unconfirmed").json()}
    assert listed[booked["appointment_id"]] == "unconfirmed"  # an email asks for no answer: the front desk calls
