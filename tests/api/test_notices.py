"""R19 R20 R22 in virtual time: confirmation at once, reminder and instructions before the visit; nothing
after a cancel; a moved appointment's notices follow the new time."""

from datetime import datetime
from email import message_from_bytes
from email.header import decode_header, make_header

from moto.ses.models import ses_backends
from moto.sns.models import sns_backends
from revisit.offline.driver import Driver
from revisit.offline.stack import ACCOUNT, REGION

# Booked 2026-11-23 12:00Z (07:00 in Boston, before its 09:00 window) for Wednesday 2 December, 10:00.
NEW_PATIENT = {"patient_id": "p-000001", "clinic_id": "boston", "appointment_type": "new-patient",
               "provider_id": "boston-dds-1", "starts_at": "2026-12-02T10:00:00-05:00"}


def sms(api):
    """The appointment's SMS (a cancelled patient falls due for recall again: those are not counted here)."""
    return [text for phone, text in sns_backends[ACCOUNT][REGION].sms_messages.values()
            if phone == "+16172223344" and " due " not in text]


def emails():
    return ses_backends[ACCOUNT][REGION].sent_messages


def test_confirmation_when_the_window_opens_then_reminder_and_instructions(api):
    driver = Driver(api.stack)
    assert api.call("POST", "/appointments", NEW_PATIENT).status == 201
    driver.settle()
    assert sms(api) == []  # 07:00 in Boston: the window opens at 09:00
    driver.run_until(datetime.fromisoformat("2026-11-23T14:05:00+00:00"))
    assert len(sms(api)) == 1 and "Mon" not in sms(api)[0] and "Wed, Dec 2, 10:00 AM" in sms(api)[0]
    raw = emails()[0].raw_data
    mail = message_from_bytes(raw if isinstance(raw, bytes) else raw.encode())
    assert "Wednesday, December 2, 2026" in " ".join(str(make_header(decode_header(mail["Subject"]))).split())
    invite = [part for part in mail.walk() if part.get_content_type() == "text/calendar"]
    assert invite and b"DTSTART" in invite[0].get_payload(decode=True)
    driver.run_until(datetime.fromisoformat("2026-12-02T14:00:00+00:00"))
    texts = sms(api)
    assert len(texts) == 3
    assert texts[1].startswith("Reminder, Smile Circle Boston") and "15 minutes early" in texts[2]


def test_a_cancelled_appointment_sends_nothing_more(api):
    driver = Driver(api.stack)
    booked = api.call("POST", "/appointments", NEW_PATIENT).json()
    driver.run_until(datetime.fromisoformat("2026-11-23T14:05:00+00:00"))
    assert len(sms(api)) == 1
    api.call("POST", f"/patients/p-000001/appointments/{booked['appointment_id']}/cancel", {"reason": "ill"})
    driver.run_until(datetime.fromisoformat("2026-12-03T00:00:00+00:00"))
    assert len(sms(api)) == 1
    executions = api.stack.client("stepfunctions").list_executions(
        stateMachineArn=api.stack.state_machine_arns["appointment"])["executions"]
    # the notices stopped; the follow-up withdrew the calendar invitation (tests/api/test_confirmation.py)
    assert sorted((e["name"].rsplit("-", 1)[-1], e["status"]) for e in executions) == [
        ("20261202T1500", "ABORTED"), ("cancelled", "SUCCEEDED")]


def test_a_retried_notice_step_never_sends_twice(api):
    driver = Driver(api.stack)
    booked = api.call("POST", "/appointments", NEW_PATIENT).json()
    driver.run_until(datetime.fromisoformat("2026-11-23T14:05:00+00:00"))
    from revisit.models.steps.notices import AppointmentNoticeRequest
    from revisit.services.appointment_notices import send_next_notice
    again = send_next_notice(AppointmentNoticeRequest(execution_name="replay", patient_id="p-000001",
                                                      appointment_id=booked["appointment_id"],
                                                      version=datetime.fromisoformat(NEW_PATIENT["starts_at"]),
                                                      notice_index=0), api.ctx)
    assert again.sent == [] and len(sms(api)) == 1 and len(emails()) == 1


def test_a_rescheduled_appointment_is_reminded_at_its_new_time_only(api):
    driver = Driver(api.stack)
    booked = api.call("POST", "/appointments", NEW_PATIENT).json()
    driver.run_until(datetime.fromisoformat("2026-11-23T14:05:00+00:00"))
    assert len(sms(api)) == 1
    path = f"/patients/p-000001/appointments/{booked['appointment_id']}"
    moved = api.call("POST", f"{path}/reschedule", {"starts_at": "2026-12-09T10:00:00-05:00"})
    assert moved.status == 200 and moved.json()["starts_at"].startswith("2026-12-09T10:00")
    # the old time is free again
    free = api.call("GET", "/clinics/boston/availability?appointment_type=new-patient&from=2026-12-02&to=2026-12-02"
                           "&provider_id=boston-dds-1").json()["slots"]
    assert any(s["starts_at"].startswith("2026-12-02T10:00") for s in free)
    driver.run_until(datetime.fromisoformat("2026-12-03T00:00:00+00:00"))
    texts = sms(api)
    # the new time is confirmed; nothing is sent for 2 December (its reminder was due 29 November)
    assert len(texts) == 2 and "Dec 9" in texts[1]
    subjects = []
    for message in [m for m in emails() if getattr(m, "raw_data", None)]:  # the patient's, with invitations
        raw = message.raw_data
        subjects.append(" ".join(str(make_header(decode_header(message_from_bytes(
            raw if isinstance(raw, bytes) else raw.encode())["Subject"]))).split()))
    # the new time's email says the visit moved (the invitation, same UID, moves the calendar entry)
    assert subjects[-1].startswith("Moved: Your new patient visit") and not subjects[0].startswith("Moved")
    driver.run_until(datetime.fromisoformat("2026-12-09T14:00:00+00:00"))
    assert [t.split(":")[0] for t in sms(api)[2:]] == ["Reminder, Smile Circle Boston", "Smile Circle Boston, Wed, Dec 9, 10"]
    assert all("Dec 2" not in t for t in sms(api)[1:])
    taken = api.call("POST", "/appointments", {**NEW_PATIENT, "starts_at": "2026-12-09T10:30:00-05:00"})
    assert taken.status == 409
    assert api.call("POST", f"{path}/reschedule", {"starts_at": "2026-12-09T10:10:00-05:00"}).json()["field"] == "starts_at"


def test_a_notice_crashed_mid_send_is_never_resent_and_is_accounted_for(api):
    from revisit.models.common import Channel
    from revisit.models.entities import AttemptOutcome, TaskKind

    from tests.fakes import FakeMetrics
    from tests.workflows.test_recall_workflow import crash_after_the_send

    api.ctx.metrics = FakeMetrics()
    crashed = crash_after_the_send(api.ctx, Channel.SMS)
    driver = Driver(api.stack)
    booked = api.call("POST", "/appointments", NEW_PATIENT).json()
    driver.run_until(datetime.fromisoformat("2026-11-23T14:05:00+00:00"))
    assert crashed and len(sms(api)) == 1 and len(emails()) == 1  # the confirmation SMS went once
    attempts = {(a.step, a.channel): a for a in api.ctx.tables.attempts.for_patient("p-000001")}
    assert attempts[("confirmation", Channel.SMS)].outcome == AttemptOutcome.UNCONFIRMED
    assert attempts[("confirmation", Channel.EMAIL)].outcome == AttemptOutcome.SENT
    assert api.ctx.metrics.counts["MessagesNotSent"] == 1
    checks = [t for t in api.ctx.tables.tasks.open_queue("boston", "front_desk") if t.kind == TaskKind.DELIVERY_CHECK]
    assert [t.patient_id for t in checks] == ["p-000001"]
    driver.run_until(datetime.fromisoformat("2026-12-02T14:00:00+00:00"))
    assert len(sms(api)) == 3  # the reminder and the instructions still follow, each once
    execution = api.stack.client("stepfunctions").list_executions(
        stateMachineArn=api.stack.state_machine_arns["appointment"])["executions"][0]
    assert execution["status"] == "SUCCEEDED" and booked["appointment_id"] in execution["name"]
