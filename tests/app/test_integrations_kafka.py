"""Events whose ``integrations`` object turns Ortto off, through a real broker and the sandbox.

They are done at once (committed, never sent) and counted in
``streamer_filtered_messages_total`` with ``reason="integrations"``, beside the events no
subscription matched (``no_subscription``). A one-at-a-time mapping (``enable_batching: false``)
sends each event alone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from streamer.app import Pipeline, build_pipeline
from streamer.config import parse_config
from streamer.sandbox import SandboxServer, SandboxState
from streamer.testing import KafkaBroker

pytestmark = pytest.mark.kafka


def _config(broker: KafkaBroker, topic: str, sandbox: SandboxServer, **extra: Any) -> Any:
    raw: dict[str, Any] = {
        "kafka": {"bootstrap_servers": broker.bootstrap_servers, "topics": [topic],
                  "group_id": f"g-{topic}", "dead_letter_topic": f"{topic}.dlq",
                  "commit_interval_ms": 100, "session_timeout_ms": 6000,
                  "start_from": "earliest"},
        "ortto": {"api_key": "pau-test-key", "endpoint": sandbox.url},
        "batching": {"max_items": 100, "linger_ms": 50},
        "delivery": {"backoff_initial_s": 0.02, "backoff_max_s": 0.2, "shutdown_grace_s": 2.0},
        "metrics": {"port": None},
        **extra,
    }
    return parse_config(raw, environ={})


async def _run_until(pipeline: Pipeline, done: Callable[[], bool], timeout: float = 60) -> bool:
    task = asyncio.create_task(pipeline.run())
    deadline = time.monotonic() + timeout
    reached = False
    while time.monotonic() < deadline and not task.done():
        if done():
            reached = True
            break
        await asyncio.sleep(0.05)
    pipeline.stop()
    await task
    return reached


def _event(n: int, kind: str, integrations: Any = None) -> dict[str, Any]:
    event: dict[str, Any] = {"type": kind, "messageId": f"m-{n}", "userId": f"u{n}",
                             "timestamp": "2026-11-28T10:07:00.000Z"}
    if kind == "track":
        event["event"] = "Order Completed"
    if integrations is not None:
        event["integrations"] = integrations
    return event


def test_turned_off_events_are_filtered_by_reason_and_committed(
    kafka_broker: KafkaBroker, new_topic: Callable[..., str]
) -> None:
    forms: list[Any] = [None, {"Ortto (Actions)": False}, {"All": False}, {"Ortto": False},
                        {"All": False, "Ortto (Actions)": True}, {"Ortto": {}}, {"ortto": False}]
    events = [_event(n, "identify" if n % 2 else "track", forms[n % len(forms)])
              for n in range(70)]
    events += [_event(100 + n, "page") for n in range(5)]
    off = {e["messageId"] for e in events if isinstance(e.get("integrations"), dict) and (
        e["integrations"].get("Ortto (Actions)", e["integrations"].get("Ortto", e[
            "integrations"].get("All"))) is False)}
    assert len(off) == 30
    topic = new_topic(partitions=2)
    kafka_broker.create_topic(f"{topic}.dlq", 1)
    kafka_broker.produce(topic, [orjson.dumps(e) for e in events])
    ends = kafka_broker.end_offsets(topic)

    async def scenario() -> tuple[Pipeline, SandboxState]:
        sandbox = SandboxServer(SandboxState(ban=False))
        await sandbox.start()
        try:
            pipeline = await build_pipeline(_config(kafka_broker, topic, sandbox))
            committed = lambda: all(  # noqa: E731
                pipeline.committed.get((topic, p), 0) >= e for p, e in ends.items())
            assert await _run_until(pipeline, committed)
            return pipeline, sandbox.state
        finally:
            await sandbox.stop()

    pipeline, state = asyncio.run(scenario())
    sent = {a["message_id"] for a in state.activities} | {c["message_id"] for c in state.contacts}
    assert sent == {e["messageId"] for e in events if e["type"] != "page"} - off
    registry = pipeline.metrics.registry
    assert registry.get_sample_value(
        "streamer_filtered_messages_total", {"reason": "integrations"}) == len(off)
    assert registry.get_sample_value(
        "streamer_filtered_messages_total", {"reason": "no_subscription"}) == 5
    assert pipeline.stats().filtered == len(off) + 5


def test_a_one_at_a_time_mapping_sends_each_event_alone(
    kafka_broker: KafkaBroker, new_topic: Callable[..., str],
) -> None:
    events = [_event(n, "track") for n in range(12)]
    events[3]["userId"] = ""  # dropped by the single-event path: the anonymous id is needed
    events[3]["anonymousId"] = "a3"
    topic = new_topic(partitions=1)
    kafka_broker.create_topic(f"{topic}.dlq", 1)
    kafka_broker.produce(topic, [orjson.dumps(e) for e in events])
    ends = kafka_broker.end_offsets(topic)
    subscriptions = [{
        "name": "Orders", "subscribe": 'type = "track"', "partnerAction": "trackActivity",
        "mapping": {"user_id": {"@path": "$.userId"}, "anonymous_id": {"@path": "$.anonymousId"},
                    "message_id": {"@path": "$.messageId"}, "event": {"@path": "$.event"},
                    "enable_batching": False},
    }]

    async def scenario() -> tuple[Pipeline, SandboxState]:
        sandbox = SandboxServer(SandboxState(ban=False))
        await sandbox.start()
        try:
            pipeline = await build_pipeline(
                _config(kafka_broker, topic, sandbox, subscriptions=subscriptions))
            committed = lambda: all(  # noqa: E731
                pipeline.committed.get((topic, p), 0) >= e for p, e in ends.items())
            assert await _run_until(pipeline, committed)
            return pipeline, sandbox.state
        finally:
            await sandbox.stop()

    pipeline, state = asyncio.run(scenario())
    assert len(state.activities) == len(events)
    assert next(a for a in state.activities if a["message_id"] == "m-3").get("user_id") is None
    sizes = {sample.name: sample.value for family in pipeline.metrics.registry.collect()
             if family.name == "streamer_batch_size_items" for sample in family.samples
             if sample.labels.get("status_class") == "2xx"
             and sample.name.endswith(("_count", "_sum"))}
    # One request per event (batching off), one item each.
    assert sizes == {"streamer_batch_size_items_count": len(events),
                     "streamer_batch_size_items_sum": len(events)}
