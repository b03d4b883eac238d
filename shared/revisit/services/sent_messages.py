"""What the last message sent in this thread of work said, as the patient received it (R24: the patient file
shows every message as sent). The notifier in front of the provider's remembers it; the send-once delivery
takes it into the attempt's row. A context variable: each Lambda invocation and each offline thread its own."""

from __future__ import annotations

from contextvars import ContextVar

_LAST: ContextVar[str | None] = ContextVar("revisit_last_sent", default=None)


def remember(text: str) -> None:
    _LAST.set(text)


def forget() -> None:
    _LAST.set(None)


def take() -> str | None:
    text = _LAST.get()
    _LAST.set(None)
    return text
