"""Two-way SMS: replies to the tenant's number arrive on its SNS topic (AWS End User Messaging)."""

import json

from revisit.lambda_runtime import MetricUnit, http_handler, logger, metrics, tenant_context
from revisit.services.replies import handle_reply


def handle(event: dict, context) -> dict:
    handled = []
    for record in event.get("Records", []):
        message = json.loads(record["Sns"]["Message"])
        result = handle_reply(tenant_context(), message["originationNumber"], message.get("messageBody", ""),
                              message.get("inboundMessageId") or record["Sns"]["MessageId"])
        metrics.add_metric(name=f"Replies_{result.reply.value}", unit=MetricUnit.Count, value=1)
        # The reply's kind and what was done; never the number or the text.
        logger.info("reply handled", extra={"reply": result.reply.value, "patients": result.patients,
                                            "action": result.action})
        handled.append(result.reply.value)
    return {"handled": handled}


lambda_handler = http_handler(handle, correlation_id_path="Records[0].Sns.MessageId")
