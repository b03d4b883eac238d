"""A clock that a driver moves, and the bookkeeping that tells the driver when it may move it.

Every running execution is either busy (a Lambda or a state is running) or asleep in a Wait state (or a
Retry back-off) until some virtual instant. When every running execution is asleep, nothing can happen
until the earliest wake time, so the driver jumps there. Six weeks of ladder pass in seconds, in order.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from datetime import UTC, datetime, timedelta


class ClockClosed(Exception):
    """Raised in an execution still asleep when its offline stack shuts down: it ends there, and never
    wakes up to run its next steps against another stack."""


class VirtualClock:
    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start.astimezone(UTC)
        self._cond = threading.Condition()
        self._sleepers: list[tuple[datetime, int, threading.Event]] = []
        self._sequence = itertools.count()
        self._running = 0
        self._waiting_outside: set[int] = set()
        self.closed = False

    # --- the Clock protocol -----------------------------------------------------------------
    def now(self) -> datetime:
        with self._cond:
            return self._now

    # --- used by the interpreter (through the seams) ----------------------------------------
    def sleep_until(self, wake: datetime) -> None:
        with self._cond:
            if self.closed:
                raise ClockClosed("the offline stack was shut down")
            if wake <= self._now:
                return
            event = threading.Event()
            heapq.heappush(self._sleepers, (wake, next(self._sequence), event))
            self._cond.notify_all()
        event.wait()
        if self.closed:
            raise ClockClosed("the offline stack was shut down")

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.sleep_until(self.now() + timedelta(seconds=seconds))

    def execution_started(self) -> None:
        with self._cond:
            self._running += 1

    def execution_finished(self) -> None:
        with self._cond:
            self._running -= 1
            self._cond.notify_all()

    def outside_wait_began(self, key: int) -> None:
        """An execution waits for something outside it (a task token answered through the API): asleep with
        no wake time, until `outside_wait_ended` (called by whoever answers, before the execution wakes)."""
        with self._cond:
            self._waiting_outside.add(key)
            self._cond.notify_all()

    def outside_wait_ended(self, key: int) -> None:
        with self._cond:
            self._waiting_outside.discard(key)

    # --- used by the driver -----------------------------------------------------------------
    @property
    def running(self) -> int:
        with self._cond:
            return self._running

    def _idle(self) -> bool:
        return len(self._sleepers) + len(self._waiting_outside) >= self._running

    def wait_idle(self, timeout: float = 600.0) -> None:
        """Blocks (in real time) until every running execution sleeps or has ended."""
        with self._cond:
            if not self._cond.wait_for(self._idle, timeout=timeout):
                raise TimeoutError(
                    f"offline executions still busy after {timeout}s: {self._running} running, "
                    f"{len(self._sleepers)} asleep"
                )

    def next_wake(self) -> datetime | None:
        with self._cond:
            return self._sleepers[0][0] if self._sleepers else None

    def advance_to(self, instant: datetime) -> int:
        """Moves time forward (never back) and wakes every sleeper due by then; returns how many woke."""
        woken = 0
        with self._cond:
            if instant > self._now:
                self._now = instant.astimezone(UTC)
            while self._sleepers and self._sleepers[0][0] <= self._now:
                _, _, event = heapq.heappop(self._sleepers)
                event.set()
                woken += 1
        return woken

    def close(self) -> None:
        """Releases every sleeper (shutting down)."""
        with self._cond:
            self.closed = True
            while self._sleepers:
                heapq.heappop(self._sleepers)[2].set()
