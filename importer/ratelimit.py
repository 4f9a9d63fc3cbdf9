"""Keep each location under HighLevel's burst limit of requests per interval.

HighLevel counts a request when it arrives, which is some time after we send
it. A request therefore occupies a slot from the moment it is sent until one
interval after its response came back, which is never earlier than the server's
own count, so the limiter cannot overrun the server's window.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

_IN_FLIGHT = float("inf")


class SlidingWindowLimiter:
    """At most `max_requests` requests in any `interval_seconds`, for one location."""

    def __init__(
        self,
        *,
        max_requests: int,
        interval_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_requests < 1 or interval_seconds <= 0:
            raise ValueError("max_requests must be at least 1 and interval_seconds positive")
        self.max_requests = max_requests
        self.interval_seconds = interval_seconds
        self._clock = clock
        self._slots: deque[list[float]] = deque()
        # Requests of other clients of the same app and location, which share the
        # server's budget: the times the server's headers revealed them.
        self._others: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> list[float]:
        """Wait for a free slot and take it; give it back with `release`."""
        async with self._lock:
            while True:
                delay = self._delay()
                if delay <= 0:
                    slot = [_IN_FLIGHT]
                    self._slots.append(slot)
                    return slot
                await asyncio.sleep(delay)

    def release(self, slot: list[float]) -> None:
        """Mark a request's response as received: its slot frees one interval from now."""
        slot[0] = self._clock()

    def observe(self, *, remaining: int | None, server_max: int | None) -> None:
        """Learn from a response's X-RateLimit headers how much of the budget others use.

        The server counted `server_max - remaining` requests in its window. Those
        beyond this client's own were sent by other clients of the same app, and
        the limiter keeps as many slots for them until an interval has passed.
        """
        if remaining is None or server_max is None:
            return
        now = self._clock()
        self._forget_old(now)
        own = len(self._slots)
        others = max(0, min(server_max, self.max_requests) - remaining - own)
        while len(self._others) < others:
            self._others.append(now)

    def pause(self, seconds: float) -> None:
        """Hold every request back after the server responded with 429."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _delay(self) -> float:
        now = self._clock()
        if self._paused_until > now:
            return self._paused_until - now

        self._forget_old(now)
        if len(self._slots) + len(self._others) < self.max_requests:
            return 0.0

        times = [slot[0] for slot in self._slots] + list(self._others)
        earliest_free = min(times) + self.interval_seconds
        if earliest_free == _IN_FLIGHT:
            # Every slot is waiting for a response, so look again shortly.
            return 0.01
        return earliest_free - now

    def _forget_old(self, now: float) -> None:
        """Drop the slots whose interval has passed, this client's and the others'."""
        self._slots = deque(slot for slot in self._slots if slot[0] + self.interval_seconds > now)
        while self._others and self._others[0] + self.interval_seconds <= now:
            self._others.popleft()
