from datetime import UTC, datetime

import pytest

from importer.sandbox.ratelimit import RateLimiter


class FakeClock:
    """A monotonic clock that only moves when a test advances it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_limiter(
    clock: FakeClock,
    *,
    max_requests: int = 3,
    daily_limit: int = 100,
    wall_time: datetime = datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
) -> RateLimiter:
    return RateLimiter(
        max_requests=max_requests,
        interval_seconds=10.0,
        daily_limit=daily_limit,
        clock=clock,
        wall_clock=lambda: wall_time,
    )


def test_limiter_allows_up_to_max() -> None:
    """The first max_requests requests in a window are allowed."""
    limiter = make_limiter(FakeClock())

    decisions = [limiter.acquire("key") for _ in range(3)]

    assert [decision.allowed for decision in decisions] == [True, True, True]
    assert [decision.remaining for decision in decisions] == [2, 1, 0]


def test_limiter_rejects_over_max() -> None:
    """A request past max_requests is rejected with a Retry-After of the time left."""
    clock = FakeClock()
    limiter = make_limiter(clock)
    for _ in range(3):
        limiter.acquire("key")
        clock.now += 1.0

    decision = limiter.acquire("key")

    assert not decision.allowed
    assert decision.remaining == 0
    # The first request was at 1000.0, the window is 10 s, and it is now 1003.0.
    assert decision.retry_after_seconds == 7


def test_limiter_retry_after_at_least_one() -> None:
    """Retry-After is rounded up and never 0."""
    clock = FakeClock()
    limiter = make_limiter(clock)
    for _ in range(3):
        limiter.acquire("key")
    clock.now += 9.9

    decision = limiter.acquire("key")

    assert decision.retry_after_seconds == 1


def test_limiter_rejection_not_counted() -> None:
    """Rejected requests do not count against the window or the day."""
    clock = FakeClock()
    limiter = make_limiter(clock)
    for _ in range(3):
        limiter.acquire("key")
    for _ in range(5):
        limiter.acquire("key")
    clock.now += 10.0

    decision = limiter.acquire("key")

    assert decision.allowed
    assert decision.remaining == 2
    assert decision.daily_remaining == 96


def test_limiter_window_slides() -> None:
    """A request leaves the window exactly interval_seconds after it was made."""
    clock = FakeClock()
    limiter = make_limiter(clock)
    limiter.acquire("key")
    clock.now += 5.0
    limiter.acquire("key")
    limiter.acquire("key")
    clock.now += 5.0

    decision = limiter.acquire("key")

    assert decision.allowed
    assert decision.remaining == 0


def test_limiter_keys_independent() -> None:
    """Each key has its own window."""
    limiter = make_limiter(FakeClock())
    for _ in range(3):
        limiter.acquire("north")

    decision = limiter.acquire("harbor")

    assert decision.allowed
    assert decision.remaining == 2


def test_limiter_daily_limit() -> None:
    """Past the daily limit requests are rejected until midnight UTC."""
    clock = FakeClock()
    limiter = make_limiter(clock, max_requests=100, daily_limit=2)
    limiter.acquire("key")
    limiter.acquire("key")

    decision = limiter.acquire("key")

    assert not decision.allowed
    assert decision.daily_remaining == 0
    assert decision.remaining == 98
    assert decision.retry_after_seconds == 12 * 3600


def test_limiter_daily_count_resets_next_day() -> None:
    """The daily count starts again on the next UTC day."""
    wall_time = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
    limiter = RateLimiter(
        max_requests=100,
        interval_seconds=10.0,
        daily_limit=1,
        clock=FakeClock(),
        wall_clock=lambda: wall_time,
    )
    limiter.acquire("key")
    wall_time = datetime(2026, 12, 2, 0, 1, tzinfo=UTC)

    decision = limiter.acquire("key")

    assert decision.allowed


def test_limiter_headers() -> None:
    """The decision reports every X-RateLimit header, and Retry-After only when rejected."""
    clock = FakeClock()
    limiter = make_limiter(clock, max_requests=1)

    allowed = limiter.acquire("key").headers()
    rejected = limiter.acquire("key").headers()

    assert allowed == {
        "X-RateLimit-Max": "1",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Interval-Milliseconds": "10000",
        "X-RateLimit-Limit-Daily": "100",
        "X-RateLimit-Daily-Remaining": "99",
    }
    assert rejected["Retry-After"] == "10"


@pytest.mark.parametrize(
    ("max_requests", "interval_seconds", "daily_limit", "name"),
    [
        (0, 1.0, 1, "max_requests"),
        (1, 0.0, 1, "interval_seconds"),
        (1, 1.0, 0, "daily_limit"),
    ],
)
def test_limiter_invalid_settings(
    max_requests: int, interval_seconds: float, daily_limit: int, name: str
) -> None:
    """Limits below their minimum raise ValueError naming the setting."""
    with pytest.raises(ValueError, match=name):
        RateLimiter(
            max_requests=max_requests, interval_seconds=interval_seconds, daily_limit=daily_limit
        )
