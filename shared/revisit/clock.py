"""The one clock. Production code reads time only through `now()`.

On AWS it is the system clock. Offline, the runtime installs a virtual clock that a driver moves,
so weeks of a recall ladder pass in seconds and every stored timestamp is a virtual one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stays where it is put (tests)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self.at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self.at


_current: Clock = SystemClock()


def use_clock(clock: Clock) -> Clock:
    """Install `clock` process-wide; returns the previous one so callers can restore it."""
    global _current
    previous, _current = _current, clock
    return previous


def now() -> datetime:
    return _current.now()


def today_in(time_zone: str) -> date:
    return now().astimezone(ZoneInfo(time_zone)).date()


def to_aws_timestamp(at: datetime) -> str:
    """The form Step Functions' Wait TimestampPath accepts: UTC, second precision, 'Z'."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
