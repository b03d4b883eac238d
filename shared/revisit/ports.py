"""What the services need from the outside world. Adapters implement these for AWS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from revisit.models.entities import EligibilityResult, InsurancePolicy, Patient


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str
    sender_id: str


@dataclass(frozen=True)
class EmailMessage:
    to: str
    sender: str
    subject: str
    text: str
    html: str
    attachments: tuple[tuple[str, str, bytes], ...] = ()
    """(file name, content type, bytes)"""


class PermanentSendFailure(Exception):
    """The provider refused this message for good (a bad number, a suppressed address)."""


class Notifier(Protocol):
    def send_sms(self, message: SmsMessage) -> str:
        """Returns the provider's message id. Raises TransientError or PermanentSendFailure."""
        ...

    def send_email(self, message: EmailMessage) -> str: ...


class ReportStore(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> None: ...


class EligibilityProvider(Protocol):
    """R9/I16: is this patient covered for this visit? A clearinghouse on a real deployment."""

    name: str

    def verify(self, patient: Patient, policy: InsurancePolicy | None, service_date: date) -> EligibilityResult: ...


class WorkflowStarter(Protocol):
    """Starts and stops executions of the tenant's state machines by deterministic name."""

    def start(self, machine: str, name: str, payload: dict) -> bool:
        """False if an execution of that name exists already (never a second one)."""
        ...

    def stop(self, machine: str, name: str, cause: str) -> None: ...


class EventPublisher(Protocol):
    """Publishes a change to the tenant's EventBridge bus (schemas: docs/events.md)."""

    def publish(self, detail_type: str, detail: dict) -> None: ...
