"""Keep each location under HighLevel's burst limit, and watch its daily limit.

The server counts a request in its window when the request reaches it, which
is after we send it and before its response comes back. Until the first
response, a request keeps its slot from its send until one interval after its
response: the server cannot have counted it later than that. Requests sent
later are taken to be counted within the fastest round trip seen so far after
their send, so their slot frees one interval after send plus that round trip,
whenever the response comes: slow answers are slow because of the work the
server does after counting, not because of the network. The first requests
are kept to the safe rule because they also open the connections, which adds
to the time before they are counted.

NOTE: that is how the sandbox counts, and how a gateway in front of the API
usually does. Should HighLevel count a request only after its work, some
requests would meet 429, wait as long as Retry-After says and be sent again.

The limiter starts from the configured limit and learns the real one from
each response's X-RateLimit headers: the interval, the maximum (never above
the configured one, so a lower setting keeps room for others), how much of the
window other clients of the same app used, and how many requests the day has left.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

_IN_FLIGHT = float("inf")
# After this many doublings the guard exceeds any response time, and slots are
# freed by the safe rule alone.
_MAX_GUARD_FACTOR = 1024.0
# A wait for a slot looks this often whether the run is stopping.
_LONGEST_SLEEP = 0.5


class LimiterStopped(Exception):
    """The run is stopping, so the request waiting for a slot is not sent."""


@dataclass(frozen=True, kw_only=True)
class RateHeaders:
    """The X-RateLimit headers of one response; None where a header was missing."""

    server_max: int | None = None
    remaining: int | None = None
    interval_ms: int | None = None
    daily_remaining: int | None = None


class Slot:
    """A request's place in the window, from its send until the server's window drops it."""

    __slots__ = ("answered_at", "counted_by", "sent_at", "sequence")

    def __init__(self, sequence: int, sent_at: float, fastest: float | None) -> None:
        self.sequence = sequence
        self.sent_at = sent_at
        self.answered_at = _IN_FLIGHT
        # The latest the server counts it, while no response came back.
        self.counted_by = _IN_FLIGHT if fastest is None else sent_at + fastest


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
        self._others_sequence = -1
        self._others_seen_at = 0.0
        self._paused_until = 0.0
        self._stopped = False
        self._lock = asyncio.Lock()
        self._sent = 0
        # The fastest round trip seen: the server has counted a request by then.
        self._fastest: float | None = None
        # Grows with each 429, for a server that counts later than the fastest round trip.
        self._guard_factor = 1.0
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
        """Wait for a free slot and take it; give it back with `release`.

        Raises LimiterStopped once `stop` is called, however long the wait.
        """
        async with self._lock:
            while True:
                if self._stopped:
                    raise LimiterStopped
                delay = self._delay()
                if delay <= 0:
                    slot = Slot(self._sent, self._clock(), self._guard())
                    self._sent += 1
                    self._slots.append(slot)
                    return slot
                await asyncio.sleep(min(delay, _LONGEST_SLEEP))

    def stop(self) -> None:
        """End every wait for a slot, now and later."""
        self._stopped = True

    def release(self, slot: Slot, headers: RateHeaders | None = None) -> None:
        """Mark a request's response as received, and learn from its headers.

        The slot frees one interval from now. Without a response (the
        connection failed) the headers are None.
        """
        slot.answered_at = self._clock()
        if headers is not None:
            round_trip = slot.answered_at - slot.sent_at
            self._fastest = round_trip if self._fastest is None else min(self._fastest, round_trip)
            self._learn(slot, headers)

    def pause(self, seconds: float) -> None:
        """Hold every request back after the server responded with 429.

        A 429 also means that the server counted some request later than the
        limiter assumed (or that another client was busier than its headers
        reported), so from now on the limiter waits longer before reusing a slot.
        """
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        self._guard_factor = min(self._guard_factor * 2, _MAX_GUARD_FACTOR)

    def _guard(self) -> float | None:
        """Return how long after its send the server is taken to have counted a request."""
        if self._fastest is None:
            return None
        return self._fastest * self._guard_factor

    def _learn(self, slot: Slot, headers: RateHeaders) -> None:
        if headers.interval_ms:
            self.interval_seconds = headers.interval_ms / 1000
        if headers.server_max:
            self.max_requests = min(self.configured_max, headers.server_max)
        if headers.daily_remaining is not None and slot.sequence > self._daily_sequence:
            self._daily_remaining = headers.daily_remaining
            self._daily_sequence = slot.sequence
        self._count_others(slot, headers)

    def _count_others(self, slot: Slot, headers: RateHeaders) -> None:
        """Keep slots for the requests that other clients of the app made in the window.

        The server counted `server_max - remaining` requests when it counted
        this one. Those beyond this client's own, sent up to this one, were
        sent by others. The limiter keeps as many slots for them, each until an
        interval after it was seen. The newest response replaces what older ones
        reported, because the others' requests leave the window as theirs do.
        """
        if headers.remaining is None or headers.server_max is None:
            return
        if slot.sequence < self._others_sequence:
            return  # a response to an older request, overtaken by a newer one
        self._others_sequence = slot.sequence
        self._others_seen_at = slot.sent_at
        now = self._clock()
        self._forget_old(now)
        own = sum(1 for mine in self._slots if mine.sequence <= slot.sequence)
        others = max(0, min(headers.server_max, self.max_requests) - headers.remaining - own)
        while len(self._others) > others:
            self._others.popleft()
        while len(self._others) < others:
            self._others.append(now)

    def _delay(self) -> float:
        now = self._clock()
        if self._paused_until > now:
            return self._paused_until - now

        self._forget_old(now)
        if len(self._slots) + len(self._others) + self._others_since(now) < self.max_requests:
            return 0.0

        times = [self._counted_by(slot) for slot in self._slots] + list(self._others)
        earliest_free = min(times) + self.interval_seconds
        if earliest_free == _IN_FLIGHT:
            # Every slot is waiting for a response, so look again shortly.
            return 0.01
        return earliest_free - now

    def _others_since(self, now: float) -> int:
        """Estimate the requests other clients sent since the server last reported their number.

        They are taken to keep the pace they had over the last window, so a
        request sent now finds them counted and still fits.
        """
        if not self._others:
            return 0
        age = now - self._others_seen_at
        return math.ceil(
            len(self._others) * min(age, self.interval_seconds) / self.interval_seconds
        )

    def _counted_by(self, slot: Slot) -> float:
        """Return when the server has counted the request at the latest."""
        return min(slot.answered_at, slot.counted_by)

    def _forget_old(self, now: float) -> None:
        """Drop the slots whose interval has passed, this client's and the others'."""
        interval = self.interval_seconds
        if any(self._counted_by(slot) + interval <= now for slot in self._slots):
            self._slots = deque(
                slot for slot in self._slots if self._counted_by(slot) + interval > now
            )
        while self._others and self._others[0] + interval <= now:
            self._others.popleft()
