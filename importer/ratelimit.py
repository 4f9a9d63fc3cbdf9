"""Keep each location under HighLevel's burst limit, and watch its daily limit.

HighLevel counts a request when it arrives, which is some time after we send
it. A request therefore occupies a slot from the moment it is sent until one
interval after its response came back, which is never earlier than the server's
own count, so the limiter cannot overrun the server's window.

The limiter starts from the configured limit and learns the real one from
each response's X-RateLimit headers: the interval, the maximum (never above
the configured one, so a lower setting keeps room for others), how much of the
window other clients of the same app used, and how many requests the day has left.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

_IN_FLIGHT = float("inf")


@dataclass(frozen=True, kw_only=True)
class RateHeaders:
    """The X-RateLimit headers of one response; None where a header was missing."""

    server_max: int | None = None
    remaining: int | None = None
    interval_ms: int | None = None
    daily_remaining: int | None = None


class Slot:
    """One request's place in the window: taken when it is sent, timed from its response."""

    __slots__ = ("freed_at", "sequence")

    def __init__(self, sequence: int) -> None:
        self.sequence = sequence
        self.freed_at = _IN_FLIGHT


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
        self.configured_max = max_requests
        self.max_requests = max_requests
        self.interval_seconds = interval_seconds
        self._clock = clock
        self._slots: deque[Slot] = deque()
        # Requests of other clients of the same app and location, which share the
        # server's budget: the times the server's headers revealed them.
        self._others: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self._sent = 0
        # What the day has left, as of the newest response, less what was sent since.
        self._daily_remaining: int | None = None
        self._daily_sequence = -1

    @property
    def daily_remaining(self) -> int | None:
        """Requests the server still allows today, or None before the first response."""
        if self._daily_remaining is None:
            return None
        sent_since = self._sent - 1 - self._daily_sequence
        return max(0, self._daily_remaining - sent_since)

    async def acquire(self) -> Slot:
        """Wait for a free slot and take it; give it back with `release`."""
        async with self._lock:
            while True:
                delay = self._delay()
                if delay <= 0:
                    slot = Slot(self._sent)
                    self._sent += 1
                    self._slots.append(slot)
                    return slot
                await asyncio.sleep(delay)

    def release(self, slot: Slot, headers: RateHeaders | None = None) -> None:
        """Mark a request's response as received, and learn from its headers.

        The slot frees one interval from now. Without a response (the
        connection failed) the headers are None.
        """
        slot.freed_at = self._clock()
        if headers is not None:
            self._learn(slot, headers)

    def pause(self, seconds: float) -> None:
        """Hold every request back after the server responded with 429."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _learn(self, slot: Slot, headers: RateHeaders) -> None:
        if headers.interval_ms:
            self.interval_seconds = headers.interval_ms / 1000
        if headers.server_max:
            self.max_requests = min(self.configured_max, headers.server_max)
        if headers.daily_remaining is not None and slot.sequence > self._daily_sequence:
            self._daily_remaining = headers.daily_remaining
            self._daily_sequence = slot.sequence
        self._count_others(headers)

    def _count_others(self, headers: RateHeaders) -> None:
        """Keep slots for the requests that other clients of the app made in the window.

        The server counted `server_max - remaining` requests. Those beyond this
        client's own were sent by others, and the limiter holds as many slots
        for them until an interval has passed.
        """
        if headers.remaining is None or headers.server_max is None:
            return
        now = self._clock()
        self._forget_old(now)
        own = len(self._slots)
        others = max(0, min(headers.server_max, self.max_requests) - headers.remaining - own)
        while len(self._others) < others:
            self._others.append(now)

    def _delay(self) -> float:
        now = self._clock()
        if self._paused_until > now:
            return self._paused_until - now

        self._forget_old(now)
        if len(self._slots) + len(self._others) < self.max_requests:
            return 0.0

        times = [slot.freed_at for slot in self._slots] + list(self._others)
        earliest_free = min(times) + self.interval_seconds
        if earliest_free == _IN_FLIGHT:
            # Every slot is waiting for a response, so look again shortly.
            return 0.01
        return earliest_free - now

    def _forget_old(self, now: float) -> None:
        """Drop the slots whose interval has passed, this client's and the others'."""
        interval = self.interval_seconds
        if any(slot.freed_at + interval <= now for slot in self._slots):
            self._slots = deque(slot for slot in self._slots if slot.freed_at + interval > now)
        while self._others and self._others[0] + interval <= now:
            self._others.popleft()
