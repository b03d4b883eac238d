"""The booking API for integrators: one Powertools resolver, a router per resource family (revisit.api.routes)."""

JSON = "application/json"
API_TITLE = "Revisit booking API"
API_VERSION = "1.0.0"
