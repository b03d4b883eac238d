"""Patient messages go out only inside the clinic's send window, in the clinic's own time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from revisit.models.tenant import SendWindow


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant the clinic's wall clock shows `at` on `day`.

    In the spring-forward gap the wall time never shows; the answer is then the first instant after it
    (the jump itself). In the autumn fold it shows twice; the answer is the first showing.
    """
    wanted = datetime.combine(day, at, tzinfo=zone)
    if wanted.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wanted.replace(tzinfo=None):
        return wanted
    # Inside a gap: walk the UTC minutes across it until the wall clock has passed `at`.
    probe = wanted.replace(fold=1).astimezone(UTC)
    while probe.astimezone(zone).replace(tzinfo=None) < wanted.replace(tzinfo=None):
        probe += timedelta(minutes=1)
    return probe.astimezone(zone)


def next_send_time(now: datetime, window: SendWindow, time_zone: str) -> datetime:
    """`now` if it is inside the window, else the instant the window next opens (UTC)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    for offset in range(8):
        day = today + timedelta(days=offset)
        if day.weekday() not in window.weekdays:
            continue
        opens = local_instant(day, window.start, zone)
        closes = local_instant(day, window.end, zone)
        if now < closes:
            return max(now, opens).astimezone(UTC)
    raise ValueError("send window never opens")  # unreachable: weekdays is never empty


LAST_CALL = timedelta(minutes=15)
"""A message planned for the end of a window goes this long before it closes: its retries still land inside."""


def last_send_time(moment: datetime, window: SendWindow, time_zone: str) -> datetime:
    """The latest instant at or before `moment` when a message may go (at least LAST_CALL before the window
    closes), UTC: the answer for what must arrive before a deadline."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    zone = ZoneInfo(time_zone)
    day = moment.astimezone(zone).date()
    for offset in range(8):
        candidate = day - timedelta(days=offset)
        if candidate.weekday() not in window.weekdays:
            continue
        opens = local_instant(candidate, window.start, zone)
        latest = max(opens, local_instant(candidate, window.end, zone) - LAST_CALL)
        if moment >= opens:
            return min(moment, latest).astimezone(UTC)
    raise ValueError("send window never opens")  # unreachable: weekdays is never empty


def is_inside(now: datetime, window: SendWindow, time_zone: str) -> bool:
    return next_send_time(now, window, time_zone) == now.astimezone(UTC)
