"""The booking API for integrators: one Powertools resolver, a router per resource."""
