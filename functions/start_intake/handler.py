"""I1: a new patient's first booking starts their intake. AppointmentBooked events come from the tenant's bus
through this function's queue; a patient with no earlier visit gets one intake execution, named by the
patient (a repeated event starts nothing). A message that fails is retried alone (partial batch response)."""

import json

from revisit.lambda_runtime import http_handler, logger, tenant_context
from revisit.services.intake import start_for_booking


def handle(event: dict, context) -> dict:
    failures = []
    for record in event.get("Records", []):
        try:
            message = json.loads(record["body"])
            started = start_for_booking(tenant_context(), message["detail"])
        except Exception:
            logger.exception("intake not started", extra={"message_id": record.get("messageId")})
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        logger.info("booking seen", extra={"patient_id": message["detail"]["patient_id"], "intake_started": started})
    return {"batchItemFailures": failures}


lambda_handler = http_handler(handle, correlation_id_path="Records[0].messageId")
