"""Moves virtual time: fires the tenant's schedules and any simulated events at their instants, and
lets every Wait state wake in order. Nothing runs ahead of the clock; nothing is skipped."""

from __future__ import annotations

import heapq
import itertools
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from revisit.domain.send_window import local_instant
from revisit.offline import aws_calls
from revisit.offline.stack import OfflineStack
from revisit.schedules import SCHEDULED_TIME, ScheduleSpec
from revisit.topology import resource_name

CRON = re.compile(r"^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$")
DAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


def _matches(field: str, value: int, names: dict[str, int] | None = None) -> bool:
    if field in ("*", "?"):
        return True
    for part in field.split(","):
        part = names.get(part.upper(), part) if names else part
        if str(part) == str(value):
            return True
    return False


def next_fire(expression: str, time_zone: str, after: datetime) -> datetime:
    """The first instant after `after` at which an EventBridge Scheduler cron expression fires, in its
    time zone (AWS evaluates it in local time, DST included). Supports numbers, lists, '*' and '?'."""
    match = CRON.match(expression)
    if not match:
        raise ValueError(f"unsupported schedule expression {expression!r}")
    minute, hour, day_of_month, month, day_of_week, _year = match.groups()
    if not (minute.isdigit() and hour.isdigit()):
        raise ValueError(f"offline schedules need a fixed minute and hour: {expression!r}")
    zone = ZoneInfo(time_zone)
    day: date = after.astimezone(zone).date()
    for _ in range(400):
        aws_weekday = (day.isoweekday() % 7) + 1  # AWS: 1 = Sunday
        if (_matches(day_of_month, day.day) and _matches(month, day.month)
                and _matches(day_of_week, aws_weekday, DAY_NAMES)):
            instant = local_instant(day, datetime.min.time().replace(hour=int(hour), minute=int(minute)), zone)
            if instant > after:
                return instant.astimezone(UTC)
        day += timedelta(days=1)
    raise ValueError(f"{expression!r} does not fire within a year")


class Driver:
    def __init__(self, stack: OfflineStack, on_schedule: Callable[[ScheduleSpec, datetime, str], None] | None = None):
        self.stack = stack
        self.clock = stack.clock
        self._callbacks: list[tuple[datetime, int, Callable[[], None]]] = []
        self._sequence = itertools.count()
        self._schedules = {spec.name: spec for spec in stack.schedules()}
        now = self.clock.now()
        self._next_fire = {name: next_fire(s.expression, s.time_zone, now) for name, s in self._schedules.items()}
        self.on_schedule = on_schedule
        self.fired: list[tuple[str, datetime, str]] = []

    def call_at(self, at: datetime, callback: Callable[[], None]) -> None:
        """Runs `callback` (in the driver's thread) when virtual time reaches `at`."""
        heapq.heappush(self._callbacks, (max(at, self.clock.now()), next(self._sequence), callback))

    def settle(self) -> None:
        """Until nothing runs: every execution asleep or done, every event on the bus delivered."""
        self.clock.wait_idle()
        while self.stack.deliver_events():
            self.clock.wait_idle()

    def run_until(self, end: datetime) -> None:
        while True:
            self.settle()
            candidates = [t for t in (self.clock.next_wake(), self._callbacks[0][0] if self._callbacks else None,
                                      min(self._next_fire.values(), default=None)) if t is not None]
            upcoming = min(candidates, default=None)
            if upcoming is None or upcoming > end:
                self.clock.advance_to(end)
                self.settle()
                return
            self.clock.advance_to(upcoming)
            for name, fire_at in sorted(self._next_fire.items()):
                if fire_at <= upcoming:
                    self._fire(self._schedules[name], fire_at)
                    self._next_fire[name] = next_fire(self._schedules[name].expression,
                                                      self._schedules[name].time_zone, fire_at)
            while self._callbacks and self._callbacks[0][0] <= upcoming:
                _, _, callback = heapq.heappop(self._callbacks)
                self.settle()
                callback()

    def _fire(self, spec: ScheduleSpec, at: datetime) -> None:
        payload = json.loads(json.dumps(spec.input).replace(SCHEDULED_TIME, at.strftime("%Y-%m-%dT%H:%M:%SZ")))
        name = f"{spec.name.removeprefix(resource_name(self.stack.config.tenant_id) + '-')}-{at:%Y%m%dT%H%M}"
        with aws_calls.acting_as(aws_calls.schedule_principal(spec.name)):  # the schedule's own role on AWS
            arn = self.stack.start_execution(spec.state_machine, name, payload)
        self.fired.append((spec.name, at, arn))
        if self.on_schedule:
            self.on_schedule(spec, at, arn)
