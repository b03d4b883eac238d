"""F7, F9, F10: the booking API's events, from the tenant's bus through this function's queue (a batch of
SQS messages, each an EventBridge event). A message that fails is retried alone (partial batch response);
applying an event twice changes nothing."""

import json

from revisit.lambda_runtime import http_handler, logger, tenant_context
from revisit.services.referral import apply_appointment_event


def handle(event: dict, context) -> dict:
    failures = []
    for record in event.get("Records", []):
        try:
            message = json.loads(record["body"])
            moved = apply_appointment_event(tenant_context(), message["detail-type"], message["detail"])
        except Exception:
            logger.exception("event not applied", extra={"message_id": record.get("messageId")})
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        # Ids and stages only: the event's appointment and what it did to which lead.
        logger.info("event applied", extra={"detail_type": message["detail-type"],
                                            "leads": [{"lead_id": m.lead.lead_id, "stage": m.lead.stage.value,
                                                       "applied": m.applied} for m in moved]})
    return {"batchItemFailures": failures}


lambda_handler = http_handler(handle, correlation_id_path="Records[0].messageId")
