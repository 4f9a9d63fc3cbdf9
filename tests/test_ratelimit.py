from __future__ import annotations

import asyncio

from importer.ratelimit import RateHeaders, SlidingWindowLimiter


class FakeClock:
    """A clock that only moves when asyncio.sleep is awaited through `sleep`."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_limit_not_exceeded_within_interval() -> None:
    """The fourth request in a window of three waits until the first slot frees."""

    async def scenario() -> float:
        limiter = SlidingWindowLimiter(max_requests=3, interval_seconds=0.3)
        loop = asyncio.get_running_loop()
        started = loop.time()
        for _ in range(4):
            slot = await limiter.acquire()
            limiter.release(slot)
        return loop.time() - started

    elapsed = asyncio.run(scenario())
    assert elapsed >= 0.29


def test_in_flight_requests_hold_their_slot() -> None:
    """A request without a response keeps its slot, however long it takes."""
    clock = FakeClock()

    async def scenario() -> bool:
        limiter = SlidingWindowLimiter(max_requests=1, interval_seconds=1.0, clock=clock)
        await limiter.acquire()
        clock.now = 100.0
        waiter = asyncio.create_task(limiter.acquire())
        await asyncio.sleep(0.05)
        blocked = not waiter.done()
        waiter.cancel()
        return blocked

    assert asyncio.run(scenario())


def test_slot_frees_one_interval_after_answer() -> None:
    """A slot counts from the response, not from the send, so it frees one interval later."""
    clock = FakeClock()

    async def scenario() -> tuple[bool, bool]:
        limiter = SlidingWindowLimiter(max_requests=1, interval_seconds=1.0, clock=clock)
        slot = await limiter.acquire()
        clock.now = 5.0
        limiter.release(slot)
        clock.now = 5.5
        early = limiter._delay() > 0
        clock.now = 6.0
        on_time = limiter._delay() == 0
        return early, on_time

    early, on_time = asyncio.run(scenario())
    assert early
    assert on_time


def test_pause_holds_requests() -> None:
    """After a 429 the limiter delays every request for the time requested."""
    clock = FakeClock()
    limiter = SlidingWindowLimiter(max_requests=10, interval_seconds=1.0, clock=clock)
    limiter.pause(3.0)
    assert limiter._delay() == 3.0


def test_budget_used_by_others_is_kept_free() -> None:
    """Requests the server counted beyond this client's own hold slots for an interval."""
    clock = FakeClock()

    async def scenario() -> float:
        limiter = SlidingWindowLimiter(max_requests=10, interval_seconds=1.0, clock=clock)
        limiter.release(await limiter.acquire())
        # The server has 3 requests left of 10 after our second: 5 were sent by another client.
        limiter.release(await limiter.acquire(), RateHeaders(remaining=3, server_max=10))
        for _ in range(3):
            limiter.release(await limiter.acquire())
        return limiter._delay()

    assert asyncio.run(scenario()) > 0


def test_others_slots_free_after_interval() -> None:
    """The slots kept for other clients free one interval after they were seen."""
    clock = FakeClock()

    async def scenario() -> float:
        limiter = SlidingWindowLimiter(max_requests=4, interval_seconds=1.0, clock=clock)
        limiter.release(await limiter.acquire(), RateHeaders(remaining=0, server_max=4))
        clock.now = 1.5
        return limiter._delay()

    assert asyncio.run(scenario()) == 0.0


def test_headers_missing_change_nothing() -> None:
    """Without the X-RateLimit headers the limiter counts only its own requests."""
    clock = FakeClock()

    async def scenario() -> float:
        limiter = SlidingWindowLimiter(max_requests=2, interval_seconds=1.0, clock=clock)
        limiter.release(await limiter.acquire(), RateHeaders())
        return limiter._delay()

    assert asyncio.run(scenario()) == 0.0


def _limiter_after(headers: RateHeaders, *, max_requests: int = 100) -> SlidingWindowLimiter:
    """A limiter that has sent one request and read `headers` from its response."""
    clock = FakeClock()

    async def scenario() -> SlidingWindowLimiter:
        limiter = SlidingWindowLimiter(
            max_requests=max_requests, interval_seconds=10.0, clock=clock
        )
        limiter.release(await limiter.acquire(), headers)
        return limiter

    return asyncio.run(scenario())


def test_interval_learned_from_header() -> None:
    limiter = _limiter_after(RateHeaders(interval_ms=2500))
    assert limiter.interval_seconds == 2.5


def test_lower_server_max_learned() -> None:
    limiter = _limiter_after(RateHeaders(server_max=40, remaining=39))
    assert limiter.max_requests == 40


def test_configured_max_kept_below_server_max() -> None:
    """A limit set lower than the server's keeps room for other tools."""
    limiter = _limiter_after(RateHeaders(server_max=100, remaining=99), max_requests=60)
    assert limiter.max_requests == 60


def test_daily_remaining_unknown_before_response() -> None:
    limiter = SlidingWindowLimiter(max_requests=5, interval_seconds=1.0)
    assert limiter.daily_remaining is None


def test_daily_remaining_counts_requests_sent_since() -> None:
    """The day's count from a response goes down with each request sent after it."""
    clock = FakeClock()

    async def scenario() -> int | None:
        limiter = SlidingWindowLimiter(max_requests=10, interval_seconds=1.0, clock=clock)
        first = await limiter.acquire()
        second = await limiter.acquire()
        limiter.release(first, RateHeaders(daily_remaining=50))
        await limiter.acquire()
        limiter.release(second)
        return limiter.daily_remaining

    assert asyncio.run(scenario()) == 48


def test_older_daily_count_ignored() -> None:
    """A response to an earlier request does not undo what a later one reported."""
    clock = FakeClock()

    async def scenario() -> int | None:
        limiter = SlidingWindowLimiter(max_requests=10, interval_seconds=1.0, clock=clock)
        first = await limiter.acquire()
        second = await limiter.acquire()
        limiter.release(second, RateHeaders(daily_remaining=20))
        limiter.release(first, RateHeaders(daily_remaining=21))
        return limiter.daily_remaining

    assert asyncio.run(scenario()) == 20


def test_slow_answer_frees_slot_after_fastest_round_trip() -> None:
    """Once a round trip is known, a slow request's slot frees one interval after it was counted."""
    clock = FakeClock()

    async def scenario() -> float:
        limiter = SlidingWindowLimiter(max_requests=1, interval_seconds=1.0, clock=clock)
        first = await limiter.acquire()
        clock.now = 0.1
        limiter.release(first, RateHeaders())  # a round trip of 0.1 s
        clock.now = 1.2
        await limiter.acquire()  # sent at 1.2, still without a response
        clock.now = 2.0
        return limiter._delay()

    # Counted by 1.3 at the latest, so the slot frees at 2.3 however slow the response.
    assert abs(asyncio.run(scenario()) - 0.3) < 1e-9


def test_others_counted_against_requests_sent_before() -> None:
    """Requests sent after the reporting one do not hide other clients' use of the window."""
    clock = FakeClock()

    async def scenario() -> float:
        limiter = SlidingWindowLimiter(max_requests=10, interval_seconds=1.0, clock=clock)
        slots = [await limiter.acquire() for _ in range(5)]
        # The server had counted our first request and 3 of another client's.
        limiter.release(slots[0], RateHeaders(remaining=6, server_max=10))
        for _ in range(2):
            await limiter.acquire()
        return limiter._delay()

    assert asyncio.run(scenario()) > 0


def test_rate_limited_answer_widens_guard() -> None:
    """After a 429, a slot waits longer than the fastest round trip before it is reused."""
    clock = FakeClock()

    async def scenario() -> float:
        limiter = SlidingWindowLimiter(max_requests=1, interval_seconds=1.0, clock=clock)
        first = await limiter.acquire()
        clock.now = 0.1
        limiter.release(first, RateHeaders())  # a round trip of 0.1 s
        limiter.pause(0.0)
        clock.now = 1.2
        await limiter.acquire()
        clock.now = 2.0
        return limiter._delay()

    # Counted by 1.4 at the latest now (twice the round trip), so the slot frees at 2.4.
    assert abs(asyncio.run(scenario()) - 0.4) < 1e-9
