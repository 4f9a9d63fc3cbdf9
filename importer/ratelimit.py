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

    def pause(self, seconds: float) -> None:
        """Hold every request back after the server responded with 429."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _delay(self) -> float:
        now = self._clock()
        if self._paused_until > now:
            return self._paused_until - now

        self._slots = deque(slot for slot in self._slots if slot[0] + self.interval_seconds > now)
        if len(self._slots) < self.max_requests:
            return 0.0

        earliest_free = min(slot[0] for slot in self._slots) + self.interval_seconds
        if earliest_free == _IN_FLIGHT:
            # Every slot is waiting for a response, so look again shortly.
            return 0.01
        return earliest_free - now
