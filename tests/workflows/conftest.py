import json
import time

import pytest
from moto.sns.models import sns_backends
from revisit.lambda_runtime import tenant_context
from revisit.offline.driver import Driver
from revisit.offline.stack import ACCOUNT, REGION, OfflineStack

from tests.conftest import DEMO_TENANT, START


class Harness:
    def __init__(self, stack: OfflineStack):
        self.stack = stack
        self.ctx = tenant_context()
        self.driver = Driver(stack)
        self.sfn = stack.client("stepfunctions")

    def start_recall(self, patient, due="2026-11-30"):
        name = f"recall-{patient.patient_id}-{due.replace('-', '')}"
        arn = self.stack.start_execution("recall", name, {"patient_id": patient.patient_id,
                                                          "clinic_id": patient.clinic_id, "recall_due_date": due})
        self.driver.settle()
        return arn

    def advance(self, days):
        self.driver.run_until(self.stack.clock.now() + __import__("datetime").timedelta(days=days))

    def finish(self, arn, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            described = self.sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                return described
            self.advance(1)
        raise AssertionError("execution still running")

    def states(self, arn):
        events = self.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]

    def sms(self):
        return list(sns_backends[ACCOUNT][REGION].sms_messages.values())

    def emails(self, patients_only=True):
        """Emails sent; by default only those to patients (the nightly sweep also emails staff)."""
        from moto.ses.models import ses_backends
        sent = ses_backends[ACCOUNT]["us-east-1"].sent_messages
        if not patients_only:
            return sent
        return [m for m in sent if not any("smilecircle" in a for a in _destinations(m))]

    def output(self, arn):
        return json.loads(self.sfn.describe_execution(executionArn=arn).get("output") or "{}")


def _destinations(message) -> list[str]:
    """moto keeps a simple email's as a dict, a raw one's as a list."""
    found = message.destinations
    return found if isinstance(found, list) else found.get("ToAddresses", [])


@pytest.fixture
def harness():
    with OfflineStack(DEMO_TENANT, START) as stack:
        yield Harness(stack)
