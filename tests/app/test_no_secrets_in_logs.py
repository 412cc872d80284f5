"""Neither the API key, nor a SASL password, nor a value from an event reaches a log line, at any
level and from any logger (streamer's, the Kafka client's, the HTTP client's)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import orjson
import pytest

from streamer.app import build_pipeline
from streamer.config import parse_config
from streamer.sandbox import SandboxServer, SandboxState
from streamer.testing import KafkaCluster

_KEY = "pau-k3y-that-must-stay-secret"
_PASSWORD = "sasl-pa55word-that-must-stay-secret"
_VALUE = "ev3nt-value-that-must-stay-private"


def test_secrets_and_event_values_never_reach_a_log_line(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    topic = new_topic(partitions=2)
    kafka_broker.create_topic(f"{topic}.dlq", 1)
    good = [{"type": "track", "event": "Order Completed", "userId": f"u-{n}",
             "messageId": f"m-{n}", "properties": {"note": _VALUE}} for n in range(20)]
    refused_by_ortto = [{"type": "identify", "userId": "u-x", "messageId": "m-x",
                         "traits": {"email": _VALUE + "@", "phone": _VALUE}}]
    poison = [b"{" + _VALUE.encode(), _VALUE.encode()]
    kafka_broker.produce(topic, [*(orjson.dumps(e) for e in good + refused_by_ortto), *poison])
    # The item errors Ortto sends back quote values; retries, then a refusal for good.
    faults = [{"kind": "request_error", "status": 503, "count": 2, "endpoints": ["track"]},
              {"kind": "item_error", "rate": 1.0, "count": 1, "status": 400,
               "message": f"invalid value {_VALUE!r}", "endpoints": ["identify"]}]

    async def scenario() -> None:
        state = SandboxState(api_keys=[_KEY], ban=False, faults=faults)
        async with SandboxServer(state) as sandbox:
            sasl = {"sasl.username": "streamer", "sasl.password": _PASSWORD}
            config = parse_config({
                "kafka": {"bootstrap_servers": kafka_broker.bootstrap_servers,
                          "topics": [topic], "group_id": f"g-{topic}",
                          "dead_letter_topic": f"{topic}.dlq", "commit_interval_ms": 100,
                          "consumer": sasl, "producer": sasl, "start_from": "earliest"},
                "ortto": {"api_key": _KEY, "endpoint": sandbox.url},
                "batching": {"linger_ms": 20},
                "delivery": {"backoff_initial_s": 0.01, "backoff_max_s": 0.05},
                "metrics": {"port": None},
            }, environ={})
            pipeline = await build_pipeline(config)
            task = asyncio.create_task(pipeline.run())
            deadline = time.monotonic() + 60
            while pipeline.stats().pending_messages or pipeline.stats().consumed < 23:
                assert time.monotonic() < deadline and not task.done(), pipeline.stats()
                await asyncio.sleep(0.05)
            pipeline.stop()
            await task
            stats = pipeline.stats()
            assert stats.dead_lettered >= 3, stats  # the poison and Ortto's refusal

    with caplog.at_level(logging.DEBUG):
        asyncio.run(scenario())
    lines = [f"{r.name}: {r.getMessage()}" for r in caplog.records]
    assert any("dead-lettered" in line for line in lines)  # the paths that could leak did run
    assert any(line.startswith("streamer.kafka") for line in lines)
    for secret in (_KEY, _PASSWORD, _VALUE):
        assert not [line for line in lines if secret in line], secret
        assert secret not in caplog.text  # tracebacks included
