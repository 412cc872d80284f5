"""The governor: additive increase, multiplicative decrease, and a token bucket, on a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from streamer.sender import Governor
from streamer.testing import FakeClock


def _cycle(governor: Governor, **release: object) -> None:
    governor.in_flight += 1
    governor.release(**release)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        # (congested, latency) per answer, one round trip apart; limit after them
        ([], 8.0),
        ([(True, 0.05)], 4.0),
        ([(True, 0.05), (True, 0.05)], 2.0),
        ([(True, 0.05)] * 10, 1.0),  # never below one
        ([(False, 0.05)] * 50, 8.0),  # never above max_in_flight
        ([(True, 0.05), (False, 0.05), (False, 0.05)], 4.0 + 1 / 4 + 1 / 4.25),
        ([(False, 0.05), (False, 1.0)], 4.0),  # 20x the best latency: slow is congestion
        ([(False, 0.05), (False, 0.15)], 8.0),  # 3x the best: within the factor, fine
    ],
)
def test_aimd_table(answers: list[tuple[bool, float]], expected: float) -> None:
    clock = FakeClock()
    governor = Governor(max_in_flight=8, clock=clock)
    for congested, latency in answers:
        clock.advance(1.0)
        _cycle(governor, congested=congested, latency_s=latency)
    assert governor.limit == pytest.approx(expected)


def test_a_burst_of_failures_in_one_round_trip_halves_once() -> None:
    clock = FakeClock()
    governor = Governor(max_in_flight=8, clock=clock)
    for _ in range(5):
        _cycle(governor, congested=True, latency_s=0.5)
        clock.advance(0.01)
    assert governor.limit == 4.0


def test_acquire_waits_for_a_place_under_the_limit() -> None:
    async def scenario() -> list[str]:
        governor = Governor(max_in_flight=1)
        order: list[str] = []
        await governor.acquire()

        async def second() -> None:
            await governor.acquire()
            order.append("second acquired")

        task = asyncio.create_task(second())
        await asyncio.sleep(0.01)
        order.append("first releases")
        governor.release(congested=False, latency_s=0.01)
        await task
        return order

    assert asyncio.run(scenario()) == ["first releases", "second acquired"]


def test_token_bucket_spaces_requests_at_the_rate() -> None:
    # The bucket's time is a fake clock: what passes is what the test advances, whatever the
    # machine's speed (a waiting acquire re-checks the bucket after a short real sleep).
    async def scenario() -> list[int]:
        clock = FakeClock()
        governor = Governor(max_in_flight=100, rate_per_s=64.0, clock=clock)
        acquired = 0

        async def take(count: int) -> None:
            nonlocal acquired
            for _ in range(count):
                await governor.acquire()
                acquired += 1

        task = asyncio.create_task(take(80))
        counts = []
        # A full bucket of 64, then 8 more per 0.125 s at 64/s (binary fractions: exact).
        for advance, target in ((0.0, 64), (0.125, 72), (0.125, 80)):
            clock.advance(advance)
            await asyncio.wait_for(_until(lambda t=target: acquired >= t), 30)
            await asyncio.sleep(0.05)  # a waiter that got a token too many would take it now
            counts.append(acquired)
        await asyncio.wait_for(task, 30)
        return counts

    assert asyncio.run(scenario()) == [64, 72, 80]


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.005)
