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
