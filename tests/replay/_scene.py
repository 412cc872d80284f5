"""What the replay tests share: a topic with timed events, a configuration, a sandbox, a run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from confluent_kafka import Consumer, Producer

from streamer.app import DryRun, RangeRequest, Replay, ReplayOptions, ReplaySummary, resolve_ranges
from streamer.config import Config, KafkaConfig, parse_config
from streamer.sandbox import SandboxServer, SandboxState
from streamer.source import ClusterView
from streamer.testing import KafkaCluster, sample_events

BASE_MS = 1_764_000_000_000
"""Record timestamps of the produced events: BASE_MS + 1000 * index (one a second)."""


@dataclass
class Scene:
    broker: KafkaCluster
    topic: str
    sandbox: SandboxServer
    group: str = "live"
    events: list[dict[str, Any]] = field(default_factory=list)
    at: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    """(partition, offset) -> the event written there."""

    @property
    def state(self) -> SandboxState:
        return self.sandbox.state

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.topic}.dlq"

    def produce(self, events: list[dict[str, Any]], partitions: int) -> None:
        """Event i goes to partition i % partitions with timestamp BASE_MS + 1000 * i."""
        reports: list[tuple[int, int, dict[str, Any]]] = []
        producer = Producer({"bootstrap.servers": self.broker.bootstrap_servers, "acks": "all"})
        for i, event in enumerate(events):
            def report(err: Any, msg: Any, event: dict[str, Any] = event) -> None:
                assert err is None, err
                reports.append((msg.partition(), msg.offset(), event))
            producer.produce(self.topic, orjson.dumps(event), partition=i % partitions,
                             timestamp=BASE_MS + 1000 * len(self.events), on_delivery=report)
            self.events.append(event)
            producer.poll(0)
        assert producer.flush(30) == 0
        for partition, offset, event in reports:
            self.at[(partition, offset)] = event

    def config(self, **sections: Any) -> Config:
        raw: dict[str, Any] = {
            "kafka": {"bootstrap_servers": self.broker.bootstrap_servers, "topics": [self.topic],
                      "group_id": self.group, "dead_letter_topic": self.dead_letter_topic,
                      "commit_interval_ms": 100},
            "ortto": {"api_key": "pau-replay-key", "endpoint": self.sandbox.url},
            "batching": {"max_items": 50, "linger_ms": 20},
            "delivery": {"backoff_initial_s": 0.02, "backoff_max_s": 0.2,
                         "shutdown_grace_s": 5.0},
            "metrics": {"port": None},
        }
        for name, values in sections.items():
            raw[name] = values if isinstance(values, list) else {**raw.get(name, {}), **values}
        return parse_config(raw, environ={})

    def ranges(self, config: Config, request: RangeRequest, group: str | None = None) -> Any:
        assert config.kafka is not None
        with ClusterView(config.kafka) as view:
            resume = view.committed(group, self.topic) if group else None
            return resolve_ranges(view, request, resume)

    def replay(
        self, request: RangeRequest, options: ReplayOptions | None = None, *,
        dry_run: bool = False, config: Config | None = None,
    ) -> ReplaySummary:
        config = config or self.config()
        options = options or ReplayOptions()
        ranges = self.ranges(config, request, options.group)
        runner = (DryRun if dry_run else Replay)(config, ranges, options)
        return asyncio.run(runner.run())

    def delivered_ids(self) -> list[str]:
        """message_ids Ortto received (activities and contacts), duplicates included."""
        ids = [a["message_id"] for a in self.state.activities]
        ids += [c["message_id"] for c in self.state.contacts if "message_id" in c]
        return ids

    def expected_ids(self, positions: set[tuple[int, int]]) -> set[str]:
        """messageIds of the deliverable (track and identify) events at ``positions``."""
        return {e["messageId"] for p, e in self.at.items()
                if p in positions and e["type"] in ("track", "identify")}


@contextmanager
def scene(broker: KafkaCluster, topic: str, **state: Any) -> Iterator[Scene]:
    broker.create_topic(f"{topic}.dlq", 1)
    with SandboxServer(SandboxState(ban=False, **state)).run_in_thread() as sandbox:
        yield Scene(broker, topic, sandbox)


def events(count: int, seed: int) -> list[dict[str, Any]]:
    return list(sample_events(count, seed=seed, page_share=0.1))


@contextmanager
def live_member(kafka: KafkaConfig) -> Iterator[Consumer]:
    """A consumer in the live group, holding its partitions until the block ends."""
    consumer = Consumer({"bootstrap.servers": kafka.bootstrap_servers,
                         "group.id": kafka.group_id, "enable.auto.commit": False,
                         "client.id": "live-member", "session.timeout.ms": 6000})
    consumer.subscribe(list(kafka.topics))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not consumer.assignment():
        consumer.poll(0.1)
    try:
        yield consumer
    finally:
        consumer.close()
