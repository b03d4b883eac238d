"""The booking API (API Gateway REST, proxy integration)."""

from revisit.api.app import handle
from revisit.lambda_runtime import http_handler, tenant_context

lambda_handler = http_handler(lambda event, context: handle(event, context, tenant_context()))
