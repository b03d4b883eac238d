"""API Gateway REQUEST authorizer: the integrator's bearer credential, checked against its stored hash."""

from revisit.api.authorizer import authorize
from revisit.lambda_runtime import http_handler, tenant_context

lambda_handler = http_handler(lambda event, context: authorize(event, tenant_context()))
