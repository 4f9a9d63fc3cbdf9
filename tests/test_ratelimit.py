from __future__ import annotations

import asyncio

from importer.ratelimit import SlidingWindowLimiter


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
        for _ in range(2):
            limiter.release(await limiter.acquire())
        # The server has 3 requests left of 10: 5 were sent by another client.
        limiter.observe(remaining=3, server_max=10)
        for _ in range(3):
            limiter.release(await limiter.acquire())
        return limiter._delay()

    assert asyncio.run(scenario()) > 0


def test_others_slots_free_after_interval() -> None:
    """The slots kept for other clients free one interval after they were seen."""
    clock = FakeClock()

    async def scenario() -> float:
        limiter = SlidingWindowLimiter(max_requests=4, interval_seconds=1.0, clock=clock)
        limiter.observe(remaining=0, server_max=4)
        clock.now = 1.5
        return limiter._delay()

    assert asyncio.run(scenario()) == 0.0


def test_headers_missing_change_nothing() -> None:
    """Without the X-RateLimit headers the limiter counts only its own requests."""
    clock = FakeClock()

    async def scenario() -> float:
        limiter = SlidingWindowLimiter(max_requests=2, interval_seconds=1.0, clock=clock)
        limiter.observe(remaining=None, server_max=None)
        limiter.release(await limiter.acquire())
        return limiter._delay()

    assert asyncio.run(scenario()) == 0.0
