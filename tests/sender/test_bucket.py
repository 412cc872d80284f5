"""The process's rate budget: a token bucket on a FakeClock, shared by every request."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from streamer.sender import OrttoClient, TokenBucket
from streamer.testing import FakeClock


def _bucket(rate: float | None) -> tuple[TokenBucket, FakeClock]:
    clock = FakeClock()
    return TokenBucket(rate, clock=clock), clock


# (rate, [(seconds to advance, expected wait of try_take: 0 = taken)])
TABLE: list[tuple[str, float, list[tuple[float, float]]]] = [
    ("a full bucket of 2, then one every half second", 2.0,
     [(0, 0), (0, 0), (0, 0.5), (0.5, 0), (0, 0.5), (0.25, 0.25), (0.25, 0)]),
    ("below one per second: one, then one every 4 s", 0.25,
     [(0, 0), (0, 4.0), (1.0, 3.0), (3.0, 0), (0, 4.0)]),
    ("a long pause refills only to the capacity", 3.0,
     [(0, 0), (0, 0), (0, 0), (100, 0), (0, 0), (0, 0), (0, 1 / 3)]),
    ("capacity is one token below one per second, however long the pause", 0.1,
     [(0, 0), (1000, 0), (0, 10.0)]),
]


@pytest.mark.parametrize(("rate", "steps"), [t[1:] for t in TABLE], ids=[t[0] for t in TABLE])
def test_token_bucket_table(rate: float, steps: list[tuple[float, float]]) -> None:
    bucket, clock = _bucket(rate)
    for advance, expected in steps:
        clock.advance(advance)
        assert bucket.try_take() == pytest.approx(expected)


def test_no_budget_never_waits() -> None:
    bucket, _ = _bucket(None)
    assert all(bucket.try_take() == 0.0 for _ in range(1000))
    assert bucket.rate is None and bucket.set_share(1, 10) == 0.1 and bucket.rate is None


@pytest.mark.parametrize(
    ("assigned", "total", "share", "rate"),
    [
        (3, 12, 0.25, 5.0),
        (12, 12, 1.0, 20.0),
        (0, 12, 1 / 12, 20 / 12),  # no partition: one partition's share, for the key probe
        (5, 0, 1.0, 20.0),  # partition count unknown: the whole budget
        (14, 12, 1.0, 20.0),  # never above the budget
    ],
)
def test_share_of_the_budget(assigned: int, total: int, share: float, rate: float) -> None:
    bucket, _ = _bucket(20.0)
    assert bucket.set_share(assigned, total) == pytest.approx(share)
    assert bucket.rate == pytest.approx(rate)


def test_a_smaller_share_cuts_the_tokens_already_saved() -> None:
    bucket, clock = _bucket(10.0)
    bucket.set_share(1, 10)  # 1/s: at most one token kept
    assert bucket.try_take() == 0.0
    assert bucket.try_take() == pytest.approx(1.0)
    bucket.set_share(10, 10)
    clock.advance(0.1)
    assert bucket.try_take() == 0.0  # the new rate refills from now on


def _fake_sleep(clock: FakeClock, naps: list[float]):  # type: ignore[no-untyped-def]
    async def sleep(seconds: float) -> None:
        naps.append(seconds)
        clock.advance(seconds)
        await asyncio.sleep(0)

    return sleep


def test_take_returns_at_rates_below_one_per_second() -> None:
    clock = FakeClock()
    naps: list[float] = []
    bucket = TokenBucket(0.2, clock=clock, sleep=_fake_sleep(clock, naps))

    async def scenario() -> None:
        for _ in range(3):
            await asyncio.wait_for(bucket.take(), 5.0)

    start = clock.now
    asyncio.run(scenario())
    assert clock.now - start == pytest.approx(10.0)  # one at once, then one per 5 s
    assert max(naps) <= 1.0  # naps short enough to notice a new share


def test_a_cancelled_take_takes_nothing() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1.0, clock=clock)

    async def scenario() -> float:
        await bucket.take()
        waiting = asyncio.create_task(bucket.take())
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        clock.advance(1.0)
        return bucket.try_take()

    assert asyncio.run(scenario()) == 0.0


def test_every_endpoint_and_the_key_check_share_one_budget() -> None:
    clock = FakeClock()
    naps: list[float] = []
    bucket = TokenBucket(2.0, clock=clock, sleep=_fake_sleep(clock, naps))
    seen: list[tuple[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, clock.now))
        if request.url.path.endswith("/audiences/create"):
            return httpx.Response(200, json={"id": "a1"})
        return httpx.Response(200, json={"errors": []})

    async def scenario() -> None:
        client = OrttoClient("pau-test", endpoint="http://sandbox.invalid/v1",
                             transport=httpx.MockTransport(handler), rate=bucket)
        try:
            await client.check_key()
            await client.create_audience("vip")
            await asyncio.gather(*(client.post(p, b"[]") for p in ["/track", "/identify"] * 3))
        finally:
            await client.aclose()

    start = clock.now
    asyncio.run(scenario())
    assert len(seen) == 8
    assert {p for p, _ in seen} == {"/v1/me", "/v1/audiences/create", "/v1/track", "/v1/identify"}
    # 2 per second for all of them together: a full bucket of 2, then 6 more at 2/s.
    assert clock.now - start == pytest.approx(3.0)
    times = sorted(t - start for _, t in seen)
    assert times == pytest.approx([0.0, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0])


def test_waiting_counts_the_takes_held_by_the_budget() -> None:
    clock = FakeClock()
    seen: list[int] = []

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(0)  # the other take comes to wait too
        seen.append(bucket.waiting)
        clock.advance(seconds)

    bucket = TokenBucket(1.0, clock=clock, sleep=sleep)

    async def scenario() -> None:
        await bucket.take()  # the first token is there: no wait
        assert bucket.waiting == 0
        await asyncio.gather(bucket.take(), bucket.take())

    asyncio.run(scenario())
    assert seen and max(seen) == 2 and bucket.waiting == 0


def test_has_token_says_whether_a_request_would_go_at_once() -> None:
    bucket, clock = _bucket(2.0)
    assert bucket.has_token()
    assert bucket.try_take() == 0.0 and bucket.try_take() == 0.0
    assert not bucket.has_token()  # spent: the next one waits half a second
    clock.advance(0.5)
    assert bucket.has_token()
    bucket.waiting = 1  # a request is already waiting: the token is its
    assert not bucket.has_token()
    assert _bucket(None)[0].has_token()
