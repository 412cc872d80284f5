"""Heartbeats and the cluster probe, on a fake clock; the health server's answers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import httpx
import pytest
from prometheus_client import CollectorRegistry

from streamer.observability import ClusterProbe, HealthServer, Heartbeats, Metrics
from streamer.testing import FakeClock

# (seconds since the loop beat, seconds since the consumer beat, alive?, reason contains)
_BEATS = [
    (0.0, 0.0, True, "alive"),
    (30.0, 0.0, True, "alive"),  # exactly the timeout is still alive
    (30.5, 0.0, False, "event loop silent for 30s"),
    (0.0, 45.0, False, "consumer thread silent for 45s"),
    (31.0, 45.0, False, "event loop silent for 31s; consumer thread silent for 45s"),
]


@pytest.mark.parametrize(("loop_age", "consumer_age", "alive", "reason"), _BEATS)
def test_a_beat_older_than_the_timeout_is_death(
    loop_age: float, consumer_age: float, alive: bool, reason: str
) -> None:
    clock = FakeClock()
    beats = Heartbeats(30.0, clock=clock)
    start = clock.now
    clock.now = start - loop_age
    beats.beat("event loop")
    clock.now = start - consumer_age
    beats.beat("consumer thread")
    clock.now = start
    ok, why = beats.check()
    assert ok is alive
    assert reason in why


def test_a_retired_beat_is_no_longer_judged() -> None:
    clock = FakeClock()
    beats = Heartbeats(1.0, clock=clock)
    beats.beat("consumer thread")
    clock.advance(5)
    assert not beats.check()[0]
    beats.retire("consumer thread")
    assert beats.check() == (True, "alive")


def test_the_loop_ticks_while_it_runs() -> None:
    async def scenario() -> tuple[bool, str]:
        beats = Heartbeats(0.5)
        beats.start_ticking()
        try:
            await asyncio.sleep(1.0)  # twice the timeout: only the ticks keep it alive
            return beats.check()
        finally:
            await beats.stop_ticking()

    assert asyncio.run(scenario()) == (True, "alive")


def test_the_probe_reports_the_latest_answer() -> None:
    calls: list[float] = []
    release = threading.Event()

    def check(timeout_s: float) -> str | None:
        calls.append(timeout_s)
        if len(calls) == 1:
            return "the Kafka cluster did not answer"
        release.wait(30)  # the second answer comes when the test says so
        return None

    async def until(condition: Callable[[], bool]) -> None:
        for _ in range(3000):
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("timed out")

    async def scenario() -> list[tuple[bool, str]]:
        probe = ClusterProbe(check, interval_s=0.01, timeout_s=0.25)
        states = [probe.state()]
        probe.start()
        try:
            await until(lambda: len(calls) == 2)  # the first answer is recorded by now
            states.append(probe.state())
            release.set()
            await until(lambda: probe.state()[0])
            states.append(probe.state())
        finally:
            release.set()
            await probe.stop()
        return states

    assert asyncio.run(scenario()) == [
        (False, "no answer from Kafka yet"),
        (False, "the Kafka cluster did not answer"),
        (True, "Kafka answers"),
    ]
    assert set(calls) == {0.25}


def test_a_probe_that_stops_answering_goes_stale() -> None:
    clock = FakeClock()
    probe = ClusterProbe(lambda _t: None, interval_s=1.0, timeout_s=1.0, clock=clock)
    probe._problem, probe._last_ok = None, clock.now  # as after a good answer
    clock.advance(3.9)
    assert probe.state()[0]
    clock.advance(0.2)
    assert probe.state() == (False, "no answer from Kafka for 4s")


def test_healthz_says_why_it_fails() -> None:
    metrics = Metrics(CollectorRegistry())
    alive = {"value": (False, "event loop silent for 31s")}

    async def scenario() -> httpx.Response:
        server = HealthServer(metrics.registry, ready=lambda: (True, "delivering"),
                              alive=lambda: alive["value"], host="127.0.0.1", port=0)
        await server.start()
        try:
            return await asyncio.to_thread(
                httpx.get, f"http://127.0.0.1:{server.port}/healthz", timeout=10)
        finally:
            await server.stop()

    answer = asyncio.run(scenario())
    assert answer.status_code == 503
    assert answer.json() == {"alive": False, "reason": "event loop silent for 31s"}
