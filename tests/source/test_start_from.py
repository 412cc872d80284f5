"""Where a group starts, on a real broker (``kafka.start_from`` and partitions added later).

A new group with ``latest`` skips what the topic held before it started and receives all that
comes after, a restart included (the start is committed at once); ``earliest`` reads
everything; a partition added to a topic the group has offsets on is read from its beginning.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, NewPartitions

from streamer.config import KafkaConfig
from streamer.source import KafkaSource
from streamer.testing import KafkaCluster, TopicFactory

pytestmark = pytest.mark.kafka


class _Handler:
    def __init__(self) -> None:
        self.keys: list[tuple[str, int]] = []
        self.committed: dict[tuple[str, int], int] = {}


    async def assigned(
        self, keys: list[tuple[str, int]], committed: dict[tuple[str, int], int]
    ) -> None:
        self.keys.extend(keys)
        self.committed.update(committed)

    async def revoked(self, keys: list[tuple[str, int]], *, lost: bool) -> dict[Any, int]:
        return {}


def _config(bootstrap: str, topic: str, group: str, start_from: str) -> KafkaConfig:
    return KafkaConfig.model_validate({
        "bootstrap_servers": bootstrap, "topics": [topic], "group_id": group,
        "dead_letter_topic": f"{topic}.dlq", "start_from": start_from,
        "session_timeout_ms": 6000,
    })


async def _poll_until(
    source: KafkaSource, condition: Callable[[list[Any]], bool], timeout: float = 60.0
) -> list[tuple[int, int, bytes]]:
    """Poll until ``condition(messages so far)``; ``(partition, offset, value)`` of each."""
    got: list[Any] = []
    deadline = time.monotonic() + timeout
    while not condition(got):
        assert time.monotonic() < deadline, f"gave up waiting; got {len(got)} messages"
        got += [m for m in await source.poll() if m.error() is None]
    return [(m.partition(), m.offset(), m.value()) for m in got]


def _source(config: KafkaConfig, handler: _Handler) -> KafkaSource:
    return KafkaSource(config, handler, overrides={"topic.metadata.refresh.interval.ms": 500})


def test_latest_skips_what_was_there_and_reads_what_comes_after(
    kafka_broker: KafkaCluster, new_topic: TopicFactory
) -> None:
    topic = new_topic(1)
    kafka_broker.produce(topic, [f"before-{i}" for i in range(5)], partition=0)
    group = f"g-latest-{uuid.uuid4().hex[:6]}"
    config = _config(kafka_broker.bootstrap_servers, topic, group, "latest")

    async def first_run() -> tuple[_Handler, list[tuple[int, int, bytes]]]:
        handler = _Handler()
        source = _source(config, handler)
        await source.start()
        try:
            await _poll_until(source, lambda _: bool(handler.keys))
            await asyncio.to_thread(
                kafka_broker.produce, topic, [f"after-{i}" for i in range(3)], partition=0
            )
            return handler, await _poll_until(source, lambda got: len(got) >= 3)
        finally:
            await source.close()

    handler, got = asyncio.run(first_run())
    assert [v for _, _, v in got] == [b"after-0", b"after-1", b"after-2"]
    # The start was committed when the partition was assigned: it is where the group starts.
    assert handler.committed == {(topic, 0): 5}
    # Nothing was committed after the three: a restart reads them again, and what came while
    # the group was away (a group resumes from its offsets, never from `latest`).
    kafka_broker.produce(topic, ["away-0", "away-1"], partition=0)

    async def second_run() -> list[tuple[int, int, bytes]]:
        source = _source(config, _Handler())
        await source.start()
        try:
            return await _poll_until(source, lambda got: len(got) >= 5)
        finally:
            await source.close()

    again = asyncio.run(second_run())
    assert [o for _, o, _ in again] == [5, 6, 7, 8, 9]


def test_earliest_reads_everything(kafka_broker: KafkaCluster, new_topic: TopicFactory) -> None:
    topic = new_topic(2)
    kafka_broker.produce(topic, [f"p0-{i}" for i in range(4)], partition=0)
    kafka_broker.produce(topic, [f"p1-{i}" for i in range(3)], partition=1)
    config = _config(kafka_broker.bootstrap_servers, topic, f"g-{uuid.uuid4().hex[:6]}",
                     "earliest")

    async def run() -> list[tuple[int, int, bytes]]:
        source = _source(config, _Handler())
        await source.start()
        try:
            return await _poll_until(source, lambda got: len(got) >= 7)
        finally:
            await source.close()

    got = asyncio.run(run())
    assert sorted((p, o) for p, o, _ in got) == [(0, o) for o in range(4)] + [
        (1, o) for o in range(3)
    ]


def test_a_partition_added_later_is_read_from_its_beginning(
    kafka_broker: KafkaCluster, new_topic: TopicFactory
) -> None:
    topic = new_topic(1)
    group = f"g-grow-{uuid.uuid4().hex[:6]}"
    config = _config(kafka_broker.bootstrap_servers, topic, group, "latest")

    async def run() -> tuple[list[tuple[int, int, bytes]], list[tuple[str, int]]]:
        handler = _Handler()
        source = _source(config, handler)
        await source.start()
        try:
            await _poll_until(source, lambda _: bool(handler.keys))
            await asyncio.to_thread(kafka_broker.produce, topic, ["p0-0"], partition=0)
            first = await _poll_until(source, lambda got: len(got) >= 1)
            # A second partition: the group has offsets on the topic (p0's start), none on p1.
            admin = AdminClient({"bootstrap.servers": kafka_broker.bootstrap_servers})
            admin.create_partitions([NewPartitions(topic, 2)])[topic].result(30)
            deadline = time.monotonic() + 60
            while kafka_broker.partition_count(topic) < 2:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.1)
            # Written before the consumer sees the partition: `latest` would skip them.
            await asyncio.to_thread(
                kafka_broker.produce, topic, [f"p1-{i}" for i in range(3)], partition=1
            )
            later = await _poll_until(source, lambda got: len(got) >= 3)
            return first + later, list(handler.keys)
        finally:
            await source.close()

    got, assigned = asyncio.run(run())
    assert (topic, 1) in assigned
    assert [(p, o, v) for p, o, v in got if p == 1] == [
        (1, 0, b"p1-0"), (1, 1, b"p1-1"), (1, 2, b"p1-2")
    ]
    assert got[0][2] == b"p0-0"
