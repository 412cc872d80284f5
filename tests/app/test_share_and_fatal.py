"""The rate share follows the assignment, and a bug that escapes a delivery task stops the
pipeline visibly (real broker, the sandbox over real HTTP)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import pytest

from streamer import DeliveryError
from streamer.app import Pipeline, build_pipeline
from streamer.batching import Batch
from streamer.config import parse_config
from streamer.sandbox import SandboxServer, SandboxState
from streamer.testing import KafkaBroker
from streamer.testing._fakes import sample_events

pytestmark = pytest.mark.kafka


def _config(broker: KafkaBroker, topic: str, sandbox: SandboxServer, group: str,
            **delivery: Any) -> Any:
    return parse_config({
        "kafka": {"bootstrap_servers": broker.bootstrap_servers, "topics": [topic],
                  "group_id": group, "dead_letter_topic": f"{topic}.dlq",
                  "commit_interval_ms": 100, "session_timeout_ms": 6000, "start_from": "earliest"},
        "ortto": {"api_key": "pau-test-key", "endpoint": sandbox.url},
        "batching": {"max_items": 50, "linger_ms": 20},
        "delivery": {"backoff_initial_s": 0.02, "backoff_max_s": 0.2, "shutdown_grace_s": 2.0,
                     **delivery},
        "metrics": {"port": None},
    }, environ={})


async def _until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _gauges(pipeline: Pipeline) -> tuple[float | None, float | None]:
    registry = pipeline.metrics.registry
    return (registry.get_sample_value("streamer_rate_share_ratio"),
            registry.get_sample_value("streamer_rate_limit_requests_per_second"))


def _view(pipeline: Pipeline) -> tuple[int, float | None, float | None, float | None]:
    """Partitions held, the bucket's rate, and the two gauges."""
    return (len(pipeline.tracker), pipeline.client.rate.rate, *_gauges(pipeline))


def test_the_rate_share_follows_every_assignment_and_revocation(
    kafka_broker: KafkaBroker, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=4)
    kafka_broker.create_topic(f"{topic}.dlq", 1)

    async def scenario() -> None:
        sandbox = SandboxServer(SandboxState(ban=False))
        await sandbox.start()
        config = _config(kafka_broker, topic, sandbox, "g-share", rate_per_s=8.0)
        first = await build_pipeline(config)
        assert _view(first) == (0, 8.0, 1.0, 8.0)  # before any rebalance: the whole budget
        first_task = asyncio.create_task(first.run())
        try:
            await _until(lambda: _view(first) == (4, 8.0, 1.0, 8.0), 60, "all on the first")
            second = await build_pipeline(config)
            second_task = asyncio.create_task(second.run())
            await _until(lambda: _view(first) == _view(second) == (2, 4.0, 0.5, 4.0), 60,
                         "half the budget each")
            second.stop()
            await second_task
            await _until(lambda: _view(first) == (4, 8.0, 1.0, 8.0), 60, "all back")
        finally:
            first.stop()
            await first_task
            await sandbox.stop()

    asyncio.run(scenario())


def test_a_bug_escaping_a_delivery_task_stops_the_pipeline_unready(
    kafka_broker: KafkaBroker, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=1)
    kafka_broker.create_topic(f"{topic}.dlq", 1)
    events = [e for e in sample_events(200, seed=4, page_share=0) if e["type"] == "track"]
    kafka_broker.produce(topic, [orjson.dumps(e) for e in events])

    def broken(batch: Batch, indexes: Sequence[int] | None, seconds: float) -> None:
        raise RuntimeError("a bug after delivery")

    async def scenario() -> tuple[Pipeline, BaseException | None]:
        sandbox = SandboxServer(SandboxState(ban=False))
        await sandbox.start()
        try:
            pipeline = await build_pipeline(_config(kafka_broker, topic, sandbox, "g-bug"))
            pipeline.outcomes.delivered = broken  # type: ignore[method-assign]
            task = asyncio.create_task(pipeline.run())
            await asyncio.wait({task}, timeout=60)
            assert task.done(), "the pipeline kept running with a dead delivery task"
            return pipeline, task.exception()
        finally:
            await sandbox.stop()

    pipeline, raised = asyncio.run(scenario())
    assert isinstance(raised, DeliveryError)
    assert isinstance(raised.__cause__, RuntimeError)
    ready, why = pipeline.readiness()
    assert not ready and "DeliveryError" in why
    # Nothing it did not report is committed: the batch's messages stay to be redone.
    assert pipeline.committed.get((topic, 0), 0) == 0
