"""Handlers on moto, invoked the way Lambda invokes them."""

import io
import json
import logging

import pytest
from revisit.errors import InvalidStepInput
from revisit.offline.stack import OfflineStack

from tests.conftest import DEMO_TENANT, START, make_patient


@pytest.fixture
def stack():
    with OfflineStack(DEMO_TENANT, START) as running:
        yield running


def invoke(stack, function, payload):
    response = stack.lambdas.invoke(FunctionName=f"revisit-demo-{function}", Payload=json.dumps(payload).encode())
    return response.get("FunctionError"), json.loads(response["Payload"].read())


def test_bad_step_input_names_the_field_and_changes_nothing(stack):
    error, body = invoke(stack, "open-recall", {"execution_name": "x", "patient_id": "p-000001",
                                                   "clinic_id": "boston", "recall_due_date": "30/11/2026"})
    assert error == "Unhandled"
    assert body["errorType"] == InvalidStepInput.__name__
    assert "recall_due_date" in body["errorMessage"]
    assert stack.table.scan()["Count"] == 0


def test_logs_carry_the_execution_name_and_no_patient_data(stack):
    patient = make_patient(first_name="Zebulon", last_name="Quixote", phone="+16172229876",
                           email="zebulon.q@mail.example.com")
    stack.tables.patients.save(patient)
    from revisit.lambda_runtime import logger
    logger.setLevel(logging.INFO)
    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)
    try:
        for function in ("open-recall", "contact-patient"):
            payload = {"execution_name": "recall-p-000001-20261130", "patient_id": "p-000001"}
            payload |= ({"clinic_id": "boston", "recall_due_date": "2026-11-30"} if function == "open-recall"
                        else {"cycle_id": "2026-11-30"})
            error, body = invoke(stack, function, payload)
            assert error is None, body
    finally:
        logger.setLevel(logging.WARNING)
        logger.registered_handler.setStream(previous)
    logged = buffer.getvalue()
    assert "recall-p-000001-20261130" in logged  # correlation id on every line
    for secret in ("Zebulon", "Quixote", "+16172229876", "zebulon.q@mail.example.com"):
        assert secret not in logged


def test_a_tenants_ses_configuration_set_goes_with_every_email(tmp_path):
    """Named in the tenant file, it is in the functions' environment (as the stack sets it) and on each send."""
    from revisit import lambda_runtime
    from revisit.config import load_tenant
    from revisit.ports import EmailMessage

    tenant = tmp_path / "events.json"
    tenant.write_text(load_tenant(DEMO_TENANT).model_copy(update={"ses_configuration_set": "demo-events"})
                      .model_dump_json())
    with OfflineStack(tenant, START):
        ctx = lambda_runtime.tenant_context()
        sent = []
        ses = ctx.notifier._inner._ses
        ses.meta.events.register("before-parameter-build.sesv2.SendEmail", lambda params, **_: sent.append(dict(params)))
        ctx.notifier.send_email(EmailMessage("p@mail.example.com", "recall@smilecircle.example.com", "Hi", "t", "<p>t</p>"))
    assert [p.get("ConfigurationSetName") for p in sent] == ["demo-events"]
