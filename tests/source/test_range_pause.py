"""``RangeSource.pause_partitions`` / ``resume_partitions`` on a real broker.

The per-contact ordering pauses a hot contact's partition alone (``app/_pausing.py``); on a
bounded range (``streamer replay``) that is the range source's job. A partition paused alone
stops while the others keep flowing, a whole-source pause and resume leaves it paused, and
resuming it reads on from where it stopped: every offset of its range once, in order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from streamer.config import KafkaConfig
from streamer.source import PartitionRange, RangeSource
from streamer.testing import KafkaCluster, TopicFactory

pytestmark = pytest.mark.kafka

Read = dict[int, list[int]]
"""Offsets read so far, per partition, in the order they came."""


class _Handler:
    async def assigned(
        self, keys: list[tuple[str, int]], committed: dict[tuple[str, int], int]
    ) -> None:
        pass

    async def revoked(self, keys: list[tuple[str, int]], *, lost: bool) -> dict[Any, int]:
        return {}


def _source(bootstrap: str, topic: str, partitions: int, end: int) -> RangeSource:
    config = KafkaConfig.model_validate({
        "bootstrap_servers": bootstrap, "topics": [topic], "group_id": "unused",
        "dead_letter_topic": f"{topic}.dlq",
        # A few messages per poll: the paused partition still has some in librdkafka's queue.
        "poll_batch": 2,
    })
    ranges = [PartitionRange(topic, p, 0, end) for p in range(partitions)]
    return RangeSource(config, _Handler(), ranges)


async def _read_until(
    source: RangeSource, read: Read, condition: Callable[[Read], bool], timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while not condition(read):
        assert time.monotonic() < deadline, f"gave up waiting; read {read}"
        for m in await source.poll():
            assert m.error() is None, m.error()
            read[m.partition()].append(m.offset())


def _produce(kafka: KafkaCluster, topic: str, partition: int, count: int) -> None:
    kafka.produce(topic, [f"p{partition}-{i}" for i in range(count)], partition=partition)


def test_a_partition_paused_alone_stops_and_resumes_where_it_stopped(
    kafka_broker: KafkaCluster, new_topic: TopicFactory
) -> None:
    topic = new_topic(3)
    end = 40
    for partition in range(3):
        _produce(kafka_broker, topic, partition, 20)
    source = _source(kafka_broker.bootstrap_servers, topic, 3, end)
    hot = (topic, 1)

    async def run() -> tuple[Read, Read, int]:
        read: Read = {0: [], 1: [], 2: []}
        await source.start()
        try:
            await _read_until(source, read, lambda r: len(r[1]) >= 1)
            await source.pause_partitions([hot])
            stopped_at = len(read[1])
            # While it is paused the others read to the end of what they have, and more.
            await asyncio.to_thread(_produce, kafka_broker, topic, 0, 20)
            await asyncio.to_thread(_produce, kafka_broker, topic, 2, 20)
            await _read_until(source, read, lambda r: len(r[0]) == len(r[2]) == end)
            while_paused = {p: list(o) for p, o in read.items()}
            assert not source.done
            await source.resume_partitions([hot])
            await asyncio.to_thread(_produce, kafka_broker, topic, 1, 20)
            await _read_until(source, read, lambda r: source.done)
            return while_paused, read, stopped_at
        finally:
            await source.close()

    while_paused, read, stopped_at = asyncio.run(run())
    # Paused, the hot partition gave nothing more than what had come before the pause (what
    # librdkafka had fetched for it already is not handed out), while the others read 40 each.
    assert while_paused[1] == list(range(stopped_at))
    assert while_paused[0] == while_paused[2] == list(range(end))
    # Resumed, it reads on from where it stopped: each offset once, in order, up to the end.
    assert read[1] == list(range(end))
    assert read[0] == read[2] == list(range(end))
    assert source.positions == {(topic, p): end for p in range(3)}


def test_a_whole_source_resume_leaves_a_partition_paused_alone_paused(
    kafka_broker: KafkaCluster, new_topic: TopicFactory
) -> None:
    topic = new_topic(2)
    end = 10
    source = _source(kafka_broker.bootstrap_servers, topic, 2, end)
    hot = (topic, 0)

    async def run() -> tuple[Read, Read, Read]:
        read: Read = {0: [], 1: []}
        await source.start()
        try:
            await source.pause()  # back-pressure: everything stops
            await source.pause_partitions([hot])  # and a hot contact on partition 0
            await asyncio.to_thread(_produce, kafka_broker, topic, 0, end)
            await asyncio.to_thread(_produce, kafka_broker, topic, 1, end // 2)
            await source.resume()  # back-pressure over: partition 1 flows, 0 stays paused
            await _read_until(source, read, lambda r: len(r[1]) == end // 2)
            after_resume = {p: list(o) for p, o in read.items()}
            await source.resume_partitions([hot])
            await _read_until(source, read, lambda r: len(r[0]) == end)
            after_hot = {p: list(o) for p, o in read.items()}
            await asyncio.to_thread(_produce, kafka_broker, topic, 1, end // 2)
            await _read_until(source, read, lambda r: source.done)
            return after_resume, after_hot, read
        finally:
            await source.close()

    after_resume, after_hot, read = asyncio.run(run())
    assert after_resume == {0: [], 1: list(range(end // 2))}
    assert after_hot[0] == list(range(end))
    assert read == {0: list(range(end)), 1: list(range(end))}
    assert source.paused_alone == set() and not source.paused
