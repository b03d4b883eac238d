"""Two-way SMS through the real inbound handler (an SNS event, as AWS End User Messaging delivers it)."""

import json

from moto.sns.models import sns_backends
from revisit.models.entities import AttemptOutcome
from revisit.offline.stack import ACCOUNT, REGION
from revisit.topology import function_name

from tests.conftest import make_patient

BOOKING = {"patient_id": "p-000001", "clinic_id": "boston", "appointment_type": "recall",
           "provider_id": "boston-hyg-1", "starts_at": "2026-11-30T09:00:00-05:00"}


def reply(api, text, phone="+16172223344", message_id="m-1"):
    event = {"Records": [{"Sns": {"MessageId": f"sns-{message_id}", "Message": json.dumps({
        "originationNumber": phone, "destinationNumber": "+18005550100", "messageBody": text,
        "inboundMessageId": message_id})}}]}
    answer = api.stack.lambdas.invoke(FunctionName=function_name("demo", "inbound_sms"), Payload=json.dumps(event))
    assert "FunctionError" not in answer
    return json.loads(answer["Payload"].read())["handled"]


def test_confirm_replies_confirm_the_next_appointment_in_every_language(api):
    for n, (language, word) in enumerate([("en", "C"), ("es", "Sí"), ("bg", "ДА"), ("ru", "да")]):
        patient = make_patient(f"p-00001{n}", phone=f"+1617222330{n}", language=language)
        api.ctx.tables.patients.save(patient)
        booked = api.call("POST", "/appointments", {**BOOKING, "patient_id": patient.patient_id,
                                                    "starts_at": f"2026-11-30T{9 + n:02d}:00:00-05:00"}).json()
        assert reply(api, word, phone=patient.phone, message_id=f"c-{n}") == ["confirm"]
        stored = api.ctx.tables.appointments.get(patient.patient_id, booked["appointment_id"])
        assert stored.confirmed_at is not None, language


def test_stop_and_start_change_sms_consent_and_each_reply_is_logged_once(api):
    assert reply(api, "stop please", message_id="s-1") == ["stop"]
    assert api.ctx.tables.patients.get("p-000001").sms_consent is False
    assert reply(api, "stop please", message_id="s-1") == ["stop"]  # SNS delivered it twice
    received = [a for a in api.ctx.tables.attempts.for_patient("p-000001") if a.outcome == AttemptOutcome.RECEIVED]
    assert len(received) == 1 and received[0].detail.startswith("stop")
    assert reply(api, "START", message_id="s-2") == ["start"]
    assert api.ctx.tables.patients.get("p-000001").sms_consent is True
    for n, word in enumerate(["СТОП", "BAJA", "Отписване"]):
        assert reply(api, word, message_id=f"x-{n}") == ["stop"]


def test_anything_else_gets_a_polite_answer_in_the_patients_language_and_a_task(api):
    api.ctx.tables.patients.save(make_patient("p-000002", clinic_id="sofia", language="bg", phone="+359888123456"))
    assert reply(api, "Може ли да дойда по-късно?", phone="+359888123456", message_id="o-1") == ["other"]
    answers = [text for phone, text in sns_backends[ACCOUNT][REGION].sms_messages.values() if phone == "+359888123456"]
    assert len(answers) == 1 and "благодарим" in answers[0]
    queue = api.ctx.tables.tasks.open_queue("sofia", "front_desk")
    assert [t.kind.value for t in queue] == ["patient_reply"] and "Може" not in queue[0].title


def test_a_reply_from_an_unknown_number_changes_nothing(api):
    assert reply(api, "STOP", phone="+16170000000", message_id="u-1") == ["stop"]
    assert api.ctx.tables.patients.get("p-000001").sms_consent is True


def test_the_api_and_inbound_functions_log_no_patient_data(api):
    import io
    import logging

    from revisit.lambda_runtime import logger

    logger.setLevel(logging.DEBUG)
    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)
    try:
        new = {"patient_id": "p-000009", "clinic_id": "boston", "first_name": "Zebulon", "last_name": "Quixote",
               "date_of_birth": "1970-01-01", "language": "en", "phone": "+16172229876",
               "email": "zebulon.q@mail.example.com", "sms_consent": True}
        assert api.call("POST", "/patients", new).status == 201
        assert api.call("GET", "/patients/p-000009").status == 200
        assert api.call("POST", "/appointments", {**BOOKING, "patient_id": "p-000009"}).status == 201
        assert reply(api, "my tooth hurts badly", phone="+16172229876", message_id="pii-1") == ["other"]
    finally:
        logger.setLevel(logging.WARNING)
        logger.registered_handler.setStream(previous)
    logged = buffer.getvalue()
    assert "reply handled" in logged  # something was logged, at DEBUG even
    for secret in ("Zebulon", "Quixote", "+16172229876", "zebulon.q@mail.example.com", "tooth"):
        assert secret not in logged


def test_a_stop_whose_first_delivery_failed_is_applied_by_the_retry(api):
    """SNS invokes the function again after a failure; before, the log row was written first and the
    retry answered "duplicate delivery" with the STOP never applied."""
    from revisit.errors import TransientError

    log_reply, failures = api.ctx.tables.attempts.log_reply, []

    def fail_once(rows, **consent):
        if not failures:
            failures.append(rows)
            raise TransientError("ProvisionedThroughputExceededException")
        return log_reply(rows, **consent)

    api.ctx.tables.attempts.log_reply = fail_once
    event = json.dumps({"Records": [{"Sns": {"MessageId": "sns-s-9", "Message": json.dumps({
        "originationNumber": "+16172223344", "messageBody": "STOP", "inboundMessageId": "s-9"})}}]})
    first = api.stack.lambdas.invoke(FunctionName=function_name("demo", "inbound_sms"), Payload=event)
    assert first.get("FunctionError") == "Unhandled"
    assert api.ctx.tables.patients.get("p-000001").sms_consent is True  # nothing half done
    assert reply(api, "STOP", message_id="s-9") == ["stop"]
    assert api.ctx.tables.patients.get("p-000001").sms_consent is False
    received = [a for a in api.ctx.tables.attempts.for_patient("p-000001") if a.outcome == AttemptOutcome.RECEIVED]
    assert len(received) == 1


def test_a_late_duplicate_of_a_stop_never_undoes_a_later_start(api):
    assert reply(api, "STOP", message_id="s-1") == ["stop"]
    assert reply(api, "START", message_id="s-2") == ["start"]
    assert reply(api, "STOP", message_id="s-1") == ["stop"]  # SNS redelivers the first one late
    assert api.ctx.tables.patients.get("p-000001").sms_consent is True


def test_stopall_withdraws_sms_and_email_and_start_brings_back_sms_only(api):
    """X5: STOPALL (and 'stop all', 'BAJA TOTAL', 'СТОП ВСЁ') is no message on any channel; START resumes SMS,
    email comes back through the clinic (PATCH /patients)."""
    assert reply(api, "STOPALL", message_id="a-1") == ["stop_all"]
    stored = api.ctx.tables.patients.get("p-000001")
    assert stored.sms_consent is False and stored.email_consent is False
    assert reply(api, "start", message_id="a-2") == ["start"]
    stored = api.ctx.tables.patients.get("p-000001")
    assert stored.sms_consent is True and stored.email_consent is False
    changed = api.call("PATCH", "/patients/p-000001", {"email_consent": True, "unsubscribed": ["marketing", "marketing"]})
    assert changed.status == 200 and changed.json()["unsubscribed"] == ["marketing"]
    assert api.call("PATCH", "/patients/p-000001", {"unsubscribed": ["spam"]}).json()["field"] == "unsubscribed.0"
