"""The booking API (API Gateway REST, proxy integration)."""

from revisit.api.app import handle
from revisit.lambda_runtime import http_handler

lambda_handler = http_handler(handle)
