"""The governor: additive increase, multiplicative decrease, on a fake clock; cancellation."""

from __future__ import annotations

import asyncio

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


def test_a_cancelled_acquire_takes_no_place() -> None:
    async def scenario() -> tuple[int, int]:
        governor = Governor(max_in_flight=1)
        await governor.acquire()
        waiting = asyncio.create_task(governor.acquire())
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        held = governor.in_flight
        governor.give_back()
        await asyncio.wait_for(governor.acquire(), 1.0)  # the place is free again
        return held, governor.in_flight

    assert asyncio.run(scenario()) == (1, 1)


def test_give_back_leaves_the_limit_alone() -> None:
    governor = Governor(max_in_flight=8)
    governor.in_flight = 1
    governor.give_back()
    assert (governor.in_flight, governor.limit) == (0, 8.0)
