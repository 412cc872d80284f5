"""What a running pipeline logs about dead letters and retries: counts and coordinates, one line
per stage/reason per window, never values from events."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from streamer.app import build_pipeline
from streamer.config import parse_config
from streamer.sandbox import SandboxServer, SandboxState
from streamer.testing import KafkaCluster

_SECRET = "s3cr3t-event-value"
_LINE = re.compile(r"^(dead-lettered|retrying) (\d+) .*\(stage (\w+), reason (\w+)")


def _event(number: int) -> dict[str, Any]:
    return {"type": "track", "event": "Order Completed", "userId": f"u-{number}",
            "messageId": f"m-{number}", "properties": {"note": _SECRET}}


def _run(bootstrap: str, topic: str, faults: list[dict[str, Any]], delivery: dict[str, Any],
         done: Callable[[Any], bool]) -> None:
    async def scenario() -> None:
        async with SandboxServer(SandboxState(ban=False, faults=faults)) as sandbox:
            config = parse_config({
                "kafka": {"bootstrap_servers": bootstrap, "topics": [topic],
                          "group_id": f"g-{topic}", "dead_letter_topic": f"{topic}.dlq",
                          "commit_interval_ms": 100, "start_from": "earliest"},
                "ortto": {"api_key": "pau-test-key", "endpoint": sandbox.url},
                "batching": {"linger_ms": 20},
                "delivery": {"backoff_initial_s": 0.01, "backoff_max_s": 0.05, **delivery},
                "metrics": {"port": None},
            }, environ={})
            pipeline = await build_pipeline(config)
            task = asyncio.create_task(pipeline.run())
            deadline = time.monotonic() + 60
            while not done(pipeline.stats()):
                assert time.monotonic() < deadline and not task.done(), pipeline.stats()
                await asyncio.sleep(0.05)
            pipeline.stop()
            await task

    asyncio.run(scenario())


def _lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, int, str, str]]:
    found = []
    for record in caplog.records:
        match = _LINE.match(record.getMessage())
        if match:
            what, count, stage, reason = match.groups()
            found.append((what, int(count), stage, reason))
    return found


def test_dead_letters_and_retries_are_counted_lines(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    topic = new_topic(partitions=2)
    kafka_broker.create_topic(f"{topic}.dlq", 1)
    poison = [b'{"not json ' + _SECRET.encode() + str(n).encode() for n in range(40)]
    kafka_broker.produce(topic, [*poison, *(orjson.dumps(_event(n)) for n in range(20))])
    faults = [{"kind": "request_error", "status": 503, "count": 3, "endpoints": ["track"]}]
    with caplog.at_level(logging.INFO, logger="streamer"):
        _run(kafka_broker.bootstrap_servers, topic, faults, {},
             lambda s: s.dead_lettered == 40 and s.delivered == 20)
    lines = _lines(caplog)
    dead = [line for line in lines if line[0] == "dead-lettered"]
    assert sum(c for _, c, _, _ in dead) == 40
    assert {(stage, reason) for _, _, stage, reason in dead} == {("decode", "invalid_json")}
    assert len(dead) <= 3, dead  # first at once, then per window, the rest at shutdown
    retries = [line for line in lines if line[0] == "retrying"]
    assert retries and {r for _, _, _, r in retries} == {"http_503"}
    assert sum(c for _, c, _, _ in retries) >= 1
    assert all(re.search(rf"e\.g\. {re.escape(topic)}\[\d\]@\d+", r.getMessage())
               for r in caplog.records if _LINE.match(r.getMessage()))
    assert not [r.getMessage() for r in caplog.records if _SECRET in r.getMessage()]


def test_retries_exhausted_says_what_failed_last(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    topic = new_topic(partitions=1)
    kafka_broker.create_topic(f"{topic}.dlq", 1)
    kafka_broker.produce(topic, [orjson.dumps(_event(n)) for n in range(5)])
    faults = [{"kind": "request_error", "status": 503, "endpoints": ["track"]}]
    with caplog.at_level(logging.INFO, logger="streamer"):
        _run(kafka_broker.bootstrap_servers, topic, faults, {"retry_budget_s": 0},
             lambda s: s.dead_lettered == 5)
    exhausted = [r.getMessage() for r in caplog.records
                 if "reason retries_exhausted" in r.getMessage()]
    assert exhausted, [r.getMessage() for r in caplog.records]
    assert "retries exhausted after " in exhausted[0], exhausted
    assert exhausted[0].endswith("; last failure: HTTP 503"), exhausted
    assert "status 503" in exhausted[0]
    assert not [r.getMessage() for r in caplog.records if _SECRET in r.getMessage()]
