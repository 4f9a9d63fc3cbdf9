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
