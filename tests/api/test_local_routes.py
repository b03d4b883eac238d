"""A tester drives `revisit serve` over real HTTP: a patient's SMS reply, a night's sweep re-run, the outbox
as JSON (send time, clinic time, patient, kind, raw MIME), and a start date of their choosing (DST)."""

import json
import subprocess
import sys
from datetime import datetime
from email import message_from_string, policy
from zoneinfo import ZoneInfo

from revisit.config import load_tenant
from revisit.offline.demo import DEFAULT_START
from revisit.offline.synthetic import generate

from tests.api.test_serve import http, serving
from tests.conftest import DEMO_TENANT, ROOT

PATIENTS = 20


def synthetic_patients():
    """The patients `revisit serve --patients 20` seeds (same generator, same seed)."""
    return generate(load_tenant(DEMO_TENANT), PATIENTS, DEFAULT_START.date(), seed=7)[0]


def reachable_by_sms(patients):
    return next(p for p in patients if p.phone and p.sms_consent and not p.opted_out
                and sum(q.phone == p.phone for q in patients) == 1)


def test_an_inbound_sms_reaches_the_inbound_function_as_aws_delivers_it_and_a_repeated_id_once():
    patient = reachable_by_sms(synthetic_patients())
    with serving(patients=PATIENTS) as (port, _):
        inbound = f"http://127.0.0.1:{port}/_local/sms/inbound"
        reply = {"from": patient.phone, "text": "Can I come later in the week?", "message_id": "carrier-1"}
        status, body = http("POST", inbound, reply)
        first = json.loads(body)
        assert status == 200 and first["result"] == {"handled": ["other"]} and first["already_handled"] is False
        assert first["function"] == "revisit-demo-inbound-sms" and first["logged_on"] == [patient.patient_id]
        [answer] = first["sent"]  # the polite answer, by SMS, to that patient
        assert (answer["channel"], answer["kind"], answer["patient_id"], answer["to"]) == \
            ("sms", "reply-answer", patient.patient_id, patient.phone)
        status, body = http("POST", inbound, reply)  # the carrier delivers the same message again
        again = json.loads(body)
        assert status == 200 and again["already_handled"] is True and again["sent"] == []
        assert again["logged_on"] == [patient.patient_id]
        status, body = http("POST", inbound, {"from": patient.phone, "text": "STOP"})  # a message id is made up
        stop = json.loads(body)
        assert status == 200 and stop["result"] == {"handled": ["stop"]} and stop["message_id"] != "carrier-1"
        for bad, field in [({"text": "hi"}, "from"), ({"from": "617-555", "text": "hi"}, "from"),
                           ({"from": patient.phone}, "text"), ({"from": patient.phone, "text": ""}, "text"),
                           ({"from": patient.phone, "text": 5}, "text"),
                           ({"from": patient.phone, "text": "hi", "message_id": "has spaces"}, "message_id"),
                           ({"from": patient.phone, "text": "hi", "to": "+1"}, "to"), ([1], "body")]:
            status, body = http("POST", inbound, bad)
            problem = json.loads(body)
            assert status == 422 and problem["field"] == field and set(problem) == {"status", "error", "field"}, bad
        assert http("GET", inbound)[0] == 405


def test_a_nights_sweep_rerun_starts_nothing_twice_over_http_and_through_the_cli():
    with serving(patients=PATIENTS) as (port, _):
        base = f"http://127.0.0.1:{port}"
        status, body = http("POST", f"{base}/_local/sweep", {"night": "2026-11-23"})
        first = json.loads(body)
        assert status == 200 and first["status"] == "SUCCEEDED"
        assert first["execution"].startswith("sweep-demo-20261123-rerun-")
        assert first["recalls_started"] and first["cycles_opened"] == len(first["recalls_started"])
        assert first["started"]["sweep_clinic"] == 4  # one page per clinic
        outbox = json.loads(http("GET", f"{base}/_local/outbox.json")[1])["messages"]

        status, body = http("POST", f"{base}/_local/sweep", {"night": "2026-11-23"})
        second = json.loads(body)
        assert status == 200 and second["status"] == "SUCCEEDED" and second["execution"] != first["execution"]
        assert second["recalls_started"] == [] and second["started"]["recall"] == 0
        assert second["cycles_opened"] == 0 and second["sent"] == []  # nor the staff emails: once a night
        assert json.loads(http("GET", f"{base}/_local/outbox.json")[1])["messages"] == outbox

        cli = subprocess.run([sys.executable, "-m", "revisit.cli", "sweep", "--night", "2026-11-23", "--url", base],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert cli.returncode == 0, cli.stderr
        assert "SUCCEEDED" in cli.stdout and "recalls started: 0, cycles opened: 0" in cli.stdout
        assert "messages sent meanwhile: 0" in cli.stdout

        for night, field in [("2026-11-25", "night"), ("23/11/2026", "night"), ("2026-02-30", "night")]:
            status, body = http("POST", f"{base}/_local/sweep", {"night": night})
            assert status == 422 and json.loads(body)["field"] == field, night
        cli = subprocess.run([sys.executable, "-m", "revisit.cli", "sweep", "--night", "2026-12-01", "--url", base],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert cli.returncode == 2 and "night" in cli.stderr and "has not come yet" in cli.stderr


def test_the_outbox_json_carries_send_time_clinic_time_patient_kind_channel_and_raw_mime():
    patients = synthetic_patients()
    boston = next(p for p in patients if p.clinic_id == "boston" and p.email and p.phone and p.sms_consent
                  and not p.opted_out and p.next_appointment_at is None)
    with serving(patients=PATIENTS) as (port, token):
        base = f"http://127.0.0.1:{port}"
        assert http("POST", f"{base}/_local/sweep", {"night": "2026-11-23"})[0] == 200  # recall SMS, staff email
        booking = {"patient_id": boston.patient_id, "clinic_id": "boston", "appointment_type": "recall",
                   "provider_id": "boston-hyg-1", "starts_at": "2026-11-30T09:00:00-05:00"}
        assert http("POST", f"{base}/appointments", booking, {"Authorization": f"Bearer {token}"})[0] == 201
        assert http("POST", f"{base}/_local/clock?days=1")[0] == 200  # the confirmation waits for 09:00 in Boston
        status, body = http("GET", f"{base}/_local/outbox.json")
        messages = json.loads(body)["messages"]
        assert status == 200 and {m["channel"] for m in messages} == {"sms", "email"}
        assert [m["sent_at"] for m in messages] == sorted(m["sent_at"] for m in messages)
        for message in messages:
            sent = datetime.fromisoformat(message["sent_at"].replace("Z", "+00:00"))
            local = datetime.fromisoformat(message["local_time"])
            assert local == sent and local.utcoffset() == sent.astimezone(ZoneInfo(message["time_zone"])).utcoffset()
            assert message["kind"] and message["message_id"]
            assert (message["patient_id"] is None) == message["kind"].startswith("staff:")
        assert {m["kind"].split(":")[0] for m in messages} >= {"recall", "appointment", "staff"}
        confirmation = next(m for m in messages if m["kind"] == "appointment:confirmation" and m["channel"] == "email")
        assert confirmation["patient_id"] == boston.patient_id and confirmation["local_time"] == "2026-11-23T09:00:00-05:00"
        raw = message_from_string(confirmation["raw"], policy=policy.default)
        [invite] = [part for part in raw.iter_attachments() if part.get_content_type() == "text/calendar"]
        assert "DTSTART;TZID=America/New_York:20261130T090000" in invite.get_content()
        [attachment] = confirmation["attachments"]
        assert attachment["filename"].endswith(".ics") and "BEGIN:VCALENDAR" in attachment["content"]
        page = http("GET", f"{base}/_local/outbox")[1]
        assert boston.patient_id in page and "appointment:confirmation" in page and "raw MIME" in page


def test_serve_starts_when_told_and_the_nightly_sweep_follows_the_dst_change():
    """Madrid leaves summer time on 2026-10-25 at 03:00: the 02:00 sweep is 00:00 UTC that night, 01:00 UTC
    the next; the administrator's summary (once a night, at the sweep's end) shows both."""
    with serving("--start", "2026-10-24T23:00", patients=8) as (port, _):
        base = f"http://127.0.0.1:{port}"
        assert json.loads(http("GET", f"{base}/_local/clock")[1])["now"] == "2026-10-24T23:00:00+00:00"
        assert http("POST", f"{base}/_local/clock?hours=27")[0] == 200
        messages = json.loads(http("GET", f"{base}/_local/outbox.json")[1])["messages"]
        summaries = [(m["sent_at"], m["local_time"]) for m in messages if m["kind"] == "staff:admin-summary"]
        assert summaries == [("2026-10-25T00:01:00Z", "2026-10-25T02:01:00+02:00"),
                             ("2026-10-26T01:01:00Z", "2026-10-26T02:01:00+01:00")]
