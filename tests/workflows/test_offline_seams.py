"""If a moto upgrade breaks a seam in revisit/offline/seams.py, these fail loudly."""

import json
import time
from datetime import timedelta

from revisit.offline.stack import OfflineStack
from tests.conftest import DEMO_TENANT, START


def test_a_one_week_wait_passes_in_virtual_time_and_history_uses_virtual_timestamps():
    with OfflineStack(DEMO_TENANT, START) as stack:
        sfn = stack.client("stepfunctions")
        arn = sfn.create_state_machine(name="wait-week", roleArn="arn:aws:iam::123456789012:role/x", definition=json.dumps(
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 7 * 86400, "Next": "T"},
                                        "T": {"Type": "Wait", "TimestampPath": "$.at", "End": True}}}))["stateMachineArn"]
        at = (START + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
        execution = sfn.start_execution(stateMachineArn=arn, name="w1", input=json.dumps({"at": at}))["executionArn"]
        began = time.monotonic()
        from revisit.offline.driver import Driver
        Driver(stack).run_until(START + timedelta(days=11))
        described = sfn.describe_execution(executionArn=execution)
        assert described["status"] == "SUCCEEDED"
        assert time.monotonic() - began < 5
        assert described["stopDate"].replace(tzinfo=None) == (START + timedelta(days=10)).replace(tzinfo=None)
        assert described["startDate"].replace(tzinfo=None) == START.replace(tzinfo=None)
