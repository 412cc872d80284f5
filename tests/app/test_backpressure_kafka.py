"""Back-pressure on bytes, against a real broker and the sandbox over real HTTP: with a small
``delivery.max_pending_bytes`` and a slow Ortto, what streamer holds stays under the mark (plus
the poll batch that crossed it), consumption pauses and resumes, and nothing is lost."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from streamer.app import build_pipeline
from streamer.config import parse_config
from streamer.offsets import MESSAGE_OVERHEAD
from streamer.sandbox import SandboxServer, SandboxState
from streamer.testing import KafkaBroker
from streamer.testing._fakes import sample_events

pytestmark = pytest.mark.kafka

POLL_BATCH = 100


def test_pending_bytes_stay_bounded_and_consumption_pauses_and_resumes(
    kafka_broker: KafkaBroker, new_topic: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    events = list(sample_events(5000, seed=21, page_share=0))
    values = [orjson.dumps(e) for e in events]
    topic = new_topic(partitions=2)
    kafka_broker.create_topic(f"{topic}.dlq", 1)
    kafka_broker.produce(topic, values)
    ends = kafka_broker.end_offsets(topic)

    async def scenario() -> dict[str, Any]:
        # Every request answers 100 ms late: work piles up faster than Ortto takes it.
        sandbox = SandboxServer(SandboxState(
            ban=False, faults=[{"kind": "delay", "seconds": 0.1, "rate": 1.0}]))
        await sandbox.start()
        try:
            config = parse_config({
                "kafka": {"bootstrap_servers": kafka_broker.bootstrap_servers,
                          "topics": [topic], "group_id": "g-pending-bytes",
                          "dead_letter_topic": f"{topic}.dlq", "start_from": "earliest",
                          "commit_interval_ms": 100, "poll_batch": POLL_BATCH},
                "ortto": {"api_key": "pau-test-key", "endpoint": sandbox.url},
                "batching": {"max_items": 100, "linger_ms": 20},
                "delivery": {"max_in_flight": 2, "max_pending_bytes": 1024 * 1024,
                             "backoff_initial_s": 0.02, "backoff_max_s": 0.2},
                "metrics": {"port": None},
            }, environ={})
            pipeline = await build_pipeline(config)
            task = asyncio.create_task(pipeline.run())
            highest = 0
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not all(
                pipeline.committed.get((topic, p), 0) >= e for p, e in ends.items()
            ):
                if task.done():
                    task.result()
                highest = max(highest, pipeline.pressure.measure().nbytes)
                await asyncio.sleep(0.002)
            gauge = pipeline.metrics.registry.get_sample_value("streamer_pending_bytes")
            pipeline.stop()
            await task
            return {"highest": highest, "mark": pipeline.pressure.max_bytes,
                    "stats": pipeline.stats(), "gauge": gauge,
                    "tracks": {a["message_id"] for a in sandbox.state.activities}}
        finally:
            await sandbox.stop()

    with caplog.at_level(logging.INFO, logger="streamer.pipeline"):
        seen = asyncio.run(scenario())
    lines = [r.getMessage() for r in caplog.records if r.name == "streamer.pipeline"]
    assert any(line.startswith("pausing consumption") for line in lines)
    assert any(line.startswith("resuming consumption") for line in lines)
    # The mark is what is left of 1 MiB once librdkafka's prefetch took its share.
    assert 0 < seen["mark"] < 1024 * 1024
    # Bounded: the mark plus the poll batch that crossed it (a message, its item, the rest).
    per_message = MESSAGE_OVERHEAD + 2 * max(len(v) for v in values)
    assert 0 < seen["highest"] <= seen["mark"] + 2 * POLL_BATCH * per_message
    # Nothing lost: every offset committed, every item delivered, nothing held at the end.
    stats = seen["stats"]
    assert stats.delivered == len(events) and stats.dead_lettered == 0
    assert seen["tracks"] == {e["messageId"] for e in events if e["type"] == "track"}
    assert seen["gauge"] is not None
