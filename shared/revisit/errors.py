"""Domain errors. Adapters translate AWS error codes into these; the API maps them to responses."""


class RevisitError(Exception):
    """Base of every error the domain raises on purpose."""


class NotFound(RevisitError):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key} not found")
        self.kind = kind
        self.key = key


class Conflict(RevisitError):
    """A conditional write lost: the record changed, or the transition is not allowed."""


class TransitionRejected(Conflict):
    def __init__(self, kind: str, key: str, to_status: str) -> None:
        super().__init__(f"{kind} {key} cannot move to {to_status}")
        self.to_status = to_status


class TransientError(RevisitError):
    """Throttling or a passing fault: Step Functions retries the step."""


class PermanentSendFailure(RevisitError):
    """The provider refused this message for good (a bad number, a suppressed address): not retried."""


class ConfigError(RevisitError):
    """A tenant file or setting is invalid; the message names the file and the field."""


class InvalidStepInput(RevisitError):
    """A workflow step got input it cannot use; the message names the field. Not retried."""


class InvalidRequest(RevisitError):
    """A request the domain refuses; `field` names what is wrong (the API answers 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class SlotTaken(Conflict):
    """The provider is not free at that time: another booking holds one of its cells (the API answers 409)."""


class IdempotencyKeyReused(RevisitError):
    """The Idempotency-Key was sent before: replay the stored booking (same request) or refuse (another)."""

    def __init__(self, record: object) -> None:
        super().__init__("Idempotency-Key already used")
        self.record = record


class NotAllowed(RevisitError):
    """A staff member asked for what their role or clinic does not see (the API answers 403)."""
