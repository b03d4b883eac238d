"""The booking API's routes, a module per resource family: the API function imports one when a request
for it first arrives (revisit.api.app), so a cold start builds only what that request needs (issue 14)."""
