"""HighLevel's rate limits: a burst limit over a sliding window and a daily limit.

HighLevel counts requests per app and location. The sandbox has no apps, so it
counts per (token, location) instead. A request that is rejected with 429 is not
counted against either limit.

NOTE: the daily count starts again at midnight UTC. HighLevel states a limit per
day without saying whether that is a calendar day or a rolling 24 hours.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta


@dataclass(frozen=True)
class RateLimitDecision:
    """Whether one request may proceed, with the counts its response headers report."""

    allowed: bool
    max_requests: int
    remaining: int
    interval_milliseconds: int
    daily_limit: int
    daily_remaining: int
    retry_after_seconds: int = 0

    def headers(self) -> dict[str, str]:
        """Return the X-RateLimit-* headers, plus Retry-After when the request was rejected."""
        headers = {
            "X-RateLimit-Max": str(self.max_requests),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Interval-Milliseconds": str(self.interval_milliseconds),
            "X-RateLimit-Limit-Daily": str(self.daily_limit),
            "X-RateLimit-Daily-Remaining": str(self.daily_remaining),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_seconds)
        return headers


@dataclass
class _Counts:
    window: deque[float] = field(default_factory=deque)
    day: date | None = None
    day_count: int = 0


class RateLimiter:
    """Thread-safe burst and daily limits, counted separately for each key.

    `clock` is a monotonic clock in seconds for the sliding window. `wall_clock`
    returns the current UTC time, because the daily count starts again at midnight UTC.
    """

    def __init__(
        self,
        *,
        max_requests: int,
        interval_seconds: float,
        daily_limit: int,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if max_requests < 1:
            raise ValueError(f"max_requests must be at least 1, got {max_requests}")
        if interval_seconds <= 0:
            raise ValueError(f"interval_seconds must be more than 0, got {interval_seconds}")
        if daily_limit < 1:
            raise ValueError(f"daily_limit must be at least 1, got {daily_limit}")

        self.max_requests = max_requests
        self.interval_seconds = interval_seconds
        self.daily_limit = daily_limit
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._counts: dict[Hashable, _Counts] = {}

    def acquire(self, key: Hashable) -> RateLimitDecision:
        """Count one request for `key` if both limits allow it, and report the outcome."""
        with self._lock:
            now = self._clock()
            today = self._wall_clock()
            counts = self._counts.setdefault(key, _Counts())
            self._forget_expired(counts, now, today.date())

            if counts.day_count >= self.daily_limit:
                return self._decision(counts, retry_after=_seconds_to_next_utc_day(today))
            if len(counts.window) >= self.max_requests:
                free_at = counts.window[0] + self.interval_seconds
                return self._decision(counts, retry_after=free_at - now)

            counts.window.append(now)
            counts.day_count += 1
            return self._decision(counts)

    def _forget_expired(self, counts: _Counts, now: float, today: date) -> None:
        while counts.window and counts.window[0] <= now - self.interval_seconds:
            counts.window.popleft()

        if counts.day != today:
            counts.day = today
            counts.day_count = 0

    def _decision(self, counts: _Counts, *, retry_after: float | None = None) -> RateLimitDecision:
        return RateLimitDecision(
            allowed=retry_after is None,
            max_requests=self.max_requests,
            remaining=max(self.max_requests - len(counts.window), 0),
            interval_milliseconds=round(self.interval_seconds * 1000),
            daily_limit=self.daily_limit,
            daily_remaining=max(self.daily_limit - counts.day_count, 0),
            # Retry-After takes whole seconds. Rounding up avoids a retry that is rejected again.
            retry_after_seconds=0 if retry_after is None else max(math.ceil(retry_after), 1),
        )


def _seconds_to_next_utc_day(moment: datetime) -> float:
    utc = moment.astimezone(UTC)
    midnight = datetime.combine(utc.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return (midnight - utc).total_seconds()
