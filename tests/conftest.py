from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from revisit.config import load_tenant
from revisit.models.entities import Patient, RecallItem

ROOT = Path(__file__).resolve().parents[1]
DEMO_TENANT = ROOT / "tenants" / "demo.yaml"


@pytest.fixture(scope="session")
def tenant():
    return load_tenant(DEMO_TENANT)


def make_patient(patient_id="p-000001", clinic_id="boston", **overrides) -> Patient:
    values = dict(
        patient_id=patient_id, clinic_id=clinic_id, first_name="Emma", last_name="Walsh",
        date_of_birth=date(1980, 1, 1), language="en", phone="+16172223344", email="emma@mail.example.com",
        sms_consent=True, email_consent=True, last_visit=date(2026, 5, 20),
        recalls=[RecallItem(recall_type="prophy", last_done=date(2026, 5, 20))],
    )
    values.update(overrides)
    return Patient(**values)


START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def pytest_addoption(parser):
    parser.addoption("--aws-calls", metavar="DIR", default=None,
                     help="the AWS calls an earlier offline run recorded (REVISIT_RECORD_AWS_CALLS=DIR): "
                          "tests/infra/test_iam_calls.py checks them against the template's roles")
