"""X5 end to end: the recall email carries an opaque one-click unsubscribe link (RFC 8058); the link, through
the offline API Gateway without any credential, shows a page on GET and unsubscribes on POST; the ladder
then stops, and care messages still go."""

from email import message_from_bytes, policy
from urllib.parse import urlsplit

from revisit.models.common import MessageKind
from revisit.models.entities import AttemptOutcome, CycleStatus
from revisit.offline.gateway import Gateway

from tests.conftest import make_patient

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def recall_email_link(harness, patient):
    arn = harness.start_recall(patient)
    harness.advance(1)
    [email] = harness.emails()
    parsed = message_from_bytes(email.raw_data.encode() if isinstance(email.raw_data, str) else email.raw_data,
                                policy=policy.default)
    header = str(parsed["List-Unsubscribe"])
    assert header.startswith("<http://127.0.0.1:8080/unsubscribe/") and header.endswith(">")
    assert str(parsed["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    link = header[1:-1]
    assert link in parsed.get_body(preferencelist=("plain",)).get_content()  # and in the text, for any reader
    assert link in parsed.get_body(preferencelist=("html",)).get_content()
    return arn, urlsplit(link).path


def test_the_recall_emails_one_click_link_unsubscribes_from_recall_once_and_stops_the_ladder(harness):
    patient = make_patient(sms_consent=False)
    harness.stack.tables.patients.save(patient)
    arn, path = recall_email_link(harness, patient)
    gateway = Gateway(harness.stack)

    page = gateway.request("GET", path)  # a mail scanner opening the link changes nothing
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Stop receiving recall reminders from Smile Circle Boston?" in page.body and 'method="post"' in page.body
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    assert harness.ctx.tables.patients.get(patient.patient_id).unsubscribed == []

    done = gateway.request("POST", path, "List-Unsubscribe=One-Click", FORM)  # the mail client's button
    assert done.status == 200 and "you will not receive recall reminders" in done.body
    again = gateway.request("POST", path, "List-Unsubscribe=One-Click", FORM)
    assert again.status == 200
    stored = harness.ctx.tables.patients.get(patient.patient_id)
    assert stored.unsubscribed == [MessageKind.RECALL] and stored.email_consent is True
    logged = [a for a in harness.ctx.tables.attempts.for_patient(patient.patient_id)
              if a.outcome == AttemptOutcome.RECEIVED]
    assert len(logged) == 1 and logged[0].step.startswith("unsubscribe-recall-")

    assert harness.finish(arn)["status"] == "SUCCEEDED"
    assert harness.ctx.tables.cycles.get(patient.patient_id, "2026-11-30").status == CycleStatus.OPTED_OUT
    assert len(harness.emails()) == 1  # nothing more of the ladder


def test_a_forged_or_altered_link_is_not_valid_and_changes_nothing(harness):
    victim = make_patient("p-000002", sms_consent=False)
    harness.stack.tables.patients.save(make_patient(sms_consent=False))
    harness.stack.tables.patients.save(victim)
    _, path = recall_email_link(harness, make_patient(sms_consent=False))
    link_id = path.removeprefix("/unsubscribe/")
    assert len(link_id) == 20 and "p-0" not in link_id  # an opaque id: no patient id, even encoded
    import base64
    other = base64.urlsafe_b64encode(b"p-000002/recall").rstrip(b"=").decode()  # the old format, for another
    gateway = Gateway(harness.stack)
    altered = ("A" if link_id[0] != "A" else "B") + link_id[1:]
    for bad in (f"/unsubscribe/{other}.AAAA", "/unsubscribe/nonsense", f"/unsubscribe/{altered}", "/unsubscribe/",
                f"/unsubscribe/{link_id}x"):
        answer = gateway.request("POST", bad, "List-Unsubscribe=One-Click", FORM)
        assert answer.status == 404 and "not valid" in answer.body, bad
    assert harness.ctx.tables.patients.get("p-000002").unsubscribed == []
    assert harness.ctx.tables.patients.get("p-000001").unsubscribed == []
