"""Small, blocking Kafka helpers for tests and the demo: topics, produce, read back, offsets.

:class:`KafkaCluster` knows only a bootstrap address, so the same helpers serve the broker this
process starts (:class:`~streamer.testing.KafkaBroker` derives from it) and an external broker named
by ``STREAMER_TEST_BOOTSTRAP``. Every helper waits until the cluster has really done the thing
(a created topic has a leader for every partition, a produced record is acknowledged by
``acks=all``), so a test never races the broker's metadata.

Lifecycle: the AdminClient is made on first use and kept; producers and consumers live for one call
(except a :class:`~streamer.testing.TopicTail`'s, which lives until the tail is closed).
Nothing here is on streamer's hot path: clarity wins over speed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

if TYPE_CHECKING:
    from ._tail import TopicTail

__all__ = ["ConsumedMessage", "Headers", "KafkaCluster", "TopicFactory"]

#: Record headers as a mapping or as ordered pairs (Kafka allows repeated names).
Headers = Mapping[str, str | bytes | None] | Sequence[tuple[str, str | bytes | None]]

_ADMIN_TIMEOUT_SECONDS = 30.0


class TopicFactory(Protocol):
    """The ``new_topic`` pytest fixture: creates a fresh, uniquely named topic per call."""

    def __call__(self, partitions: int = 1, *, config: Mapping[str, str] | None = None) -> str: ...


@dataclass(frozen=True, slots=True)
class ConsumedMessage:
    """One record read back from a topic."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]
    timestamp_ms: int

    def header(self, name: str) -> bytes | None:
        """The value of the last header called ``name`` (None if absent or null)."""
        found: bytes | None = None
        for key, value in self.headers:
            if key == name:
                found = value
        return found


def _as_bytes(value: str | bytes | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value


def _position(message: Message) -> tuple[int, int]:
    partition, offset = message.partition(), message.offset()
    assert partition is not None and offset is not None, "a delivered record has a position"
    return partition, offset


def _to_consumed(message: Message) -> ConsumedMessage:
    partition, offset = _position(message)
    _, timestamp = message.timestamp()
    raw_headers = message.headers() or []
    pairs = raw_headers.items() if isinstance(raw_headers, dict) else raw_headers
    return ConsumedMessage(
        topic=str(message.topic()),
        partition=partition,
        offset=offset,
        key=message.key(),
        value=message.value(),
        headers=tuple((str(name), _as_bytes(value)) for name, value in pairs),
        timestamp_ms=timestamp,
    )


class KafkaCluster:
    """Helpers over the Kafka cluster at ``bootstrap_servers`` (``host:port[,host:port...]``)."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._admin_client: AdminClient | None = None

    @property
    def bootstrap_servers(self) -> str:
        """The address clients connect to, e.g. ``"127.0.0.1:39092"``."""
        return self._bootstrap_servers

    # -- topics ---------------------------------------------------------------------------------

    def create_topic(
        self,
        name: str,
        partitions: int = 1,
        *,
        config: Mapping[str, str] | None = None,
        timeout: float = _ADMIN_TIMEOUT_SECONDS,
    ) -> None:
        """Create ``name`` and return once every partition has an elected leader."""
        topic = NewTopic(
            name, num_partitions=partitions, replication_factor=1, config=dict(config or {})
        )
        futures = self._admin().create_topics([topic], operation_timeout=timeout)
        futures[name].result(timeout)
        self._wait_for(
            lambda: self._leaders_answer(name, partitions),
            timeout,
            f"topic {name!r} has no answering leader for all {partitions} partitions",
        )

    def delete_topic(
        self, name: str, *, wait: bool = True, timeout: float = _ADMIN_TIMEOUT_SECONDS
    ) -> None:
        """Delete ``name``; with ``wait``, return once the cluster no longer lists it."""
        futures = self._admin().delete_topics([name], operation_timeout=timeout)
        if not wait:
            return
        futures[name].result(timeout)
        self._wait_for(
            lambda: name not in self.topics(), timeout, f"topic {name!r} is still listed"
        )

    def topics(self) -> set[str]:
        """Names of the topics that exist, internal ones excluded."""
        metadata = self._admin().list_topics(timeout=_ADMIN_TIMEOUT_SECONDS)
        return {str(name) for name in metadata.topics if not str(name).startswith("__")}

    def partition_count(self, topic: str) -> int:
        """How many partitions ``topic`` has (KafkaException if it does not exist)."""
        metadata = self._admin().list_topics(topic=topic, timeout=_ADMIN_TIMEOUT_SECONDS)
        described = metadata.topics[topic]
        if described.error is not None:
            raise KafkaException(described.error)
        return len(described.partitions)

    # -- records --------------------------------------------------------------------------------

    def produce(
        self,
        topic: str,
        values: Iterable[str | bytes | None],
        *,
        key: str | bytes | None = None,
        headers: Headers | None = None,
        partition: int | None = None,
        producer_config: Mapping[str, Any] | None = None,
        keys: Sequence[str | bytes | None] | None = None,
    ) -> list[tuple[int, int]]:
        """Write each value as one record; return ``(partition, offset)`` of each, in order.

        Every record gets the same key, headers and partition (None: the partitioner picks);
        ``keys`` gives each record a key of its own instead (one per value).
        Strings are encoded as UTF-8. Raises KafkaException when a record is not acknowledged.
        ``producer_config`` adds librdkafka properties (``message.max.bytes`` for big values).
        """
        pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
        header_list: list[tuple[str, str | bytes | None]] = list(pairs)
        # Reports across partitions arrive in any order: each fills the slot of its record.
        slots: list[tuple[int, int] | KafkaError | None] = []

        def on_delivery(slot: int) -> Callable[[KafkaError | None, Message], None]:
            def report(error: KafkaError | None, message: Message) -> None:
                slots[slot] = error if error is not None else _position(message)

            return report

        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers, "acks": "all", "linger.ms": 0,
            **(producer_config or {}),
        }
        with Producer(config) as producer:
            for slot, value in enumerate(values):
                slots.append(None)
                producer.produce(
                    topic,
                    value=_as_bytes(value),
                    key=_as_bytes(key if keys is None else keys[slot]),
                    partition=-1 if partition is None else partition,  # -1: the partitioner picks
                    on_delivery=on_delivery(slot),
                    headers=header_list or None,
                )
                producer.poll(0)
            unacknowledged = producer.flush(_ADMIN_TIMEOUT_SECONDS)
            if unacknowledged:
                raise KafkaException(
                    f"{unacknowledged} record(s) to {topic!r} were not acknowledged"
                )
        positions: list[tuple[int, int]] = []
        for outcome in slots:
            if not isinstance(outcome, tuple):
                raise KafkaException(outcome or f"a record to {topic!r} got no delivery report")
            positions.append(outcome)
        return positions

    def consume_all(
        self, topic: str, *, timeout: float = 10.0, min_count: int = 0
    ) -> list[ConsumedMessage]:
        """Read ``topic`` from its beginning; return its records sorted by partition and offset.

        Reads up to the end offsets seen at the call. With ``min_count``, keeps reading records
        that arrive later until at least that many were read; if ``timeout`` passes first, returns
        what was read (so the test's assertion shows what is missing). Commits nothing.
        """
        deadline = time.monotonic() + timeout
        partitions = [TopicPartition(topic, p) for p in range(self.partition_count(topic))]
        messages: list[ConsumedMessage] = []
        with self._reader() as consumer:
            # Asking for the end offsets first also connects to the leader: a consumer assigned
            # before its first request spends half a second finding it.
            end = self._high_watermarks(consumer, partitions)
            consumer.assign(
                [TopicPartition(topic, t.partition, OFFSET_BEGINNING) for t in partitions]
            )
            next_offset = {tp.partition: 0 for tp in partitions}
            while time.monotonic() < deadline:
                if len(messages) >= min_count and all(next_offset[p] >= end[p] for p in end):
                    break
                message = consumer.poll(min(0.2, max(deadline - time.monotonic(), 0.0)))
                if message is None:
                    if len(messages) < min_count:
                        end = self._high_watermarks(consumer, partitions)
                    continue
                error = message.error()
                if error is not None:
                    raise KafkaException(error)
                consumed = _to_consumed(message)
                messages.append(consumed)
                next_offset[consumed.partition] = consumed.offset + 1
        return sorted(messages, key=lambda m: (m.partition, m.offset))

    def tail(self, topic: str) -> TopicTail:
        """A reader of ``topic`` that keeps what it read: see :class:`~streamer.testing.TopicTail`.
        Close it (or use it in a ``with`` block) when done."""
        from ._tail import TopicTail

        return TopicTail(self._reader(), topic, self.partition_count(topic))

    # -- offsets --------------------------------------------------------------------------------

    def end_offsets(self, topic: str) -> dict[int, int]:
        """The next offset to be written in each partition of ``topic`` (its high watermark)."""
        partitions = [TopicPartition(topic, p) for p in range(self.partition_count(topic))]
        with self._reader() as consumer:
            return self._high_watermarks(consumer, partitions)

    def committed_offsets(self, group_id: str, topic: str) -> dict[int, int]:
        """Offsets ``group_id`` committed on ``topic``; a partition never committed is absent."""
        futures = self._admin().list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group_id)], request_timeout=_ADMIN_TIMEOUT_SECONDS
        )
        answer = futures[group_id].result(_ADMIN_TIMEOUT_SECONDS)
        return {
            int(tp.partition): int(tp.offset)
            for tp in answer.topic_partitions or ()
            if tp.topic == topic and tp.offset >= 0
        }

    def wait_for_committed(
        self,
        group_id: str,
        topic: str,
        expected: Mapping[int, int],
        *,
        timeout: float = 30.0,
    ) -> dict[int, int]:
        """Poll until the committed offsets of the partitions in ``expected`` equal it.

        Returns all committed offsets of ``topic``; raises TimeoutError naming the last ones seen.
        """
        deadline = time.monotonic() + timeout
        while True:
            committed = self.committed_offsets(group_id, topic)
            if all(committed.get(p) == offset for p, offset in expected.items()):
                return committed
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"group {group_id!r} on {topic!r} committed {committed}, "
                    f"expected {dict(expected)}"
                )
            time.sleep(0.1)

    # -- internals ------------------------------------------------------------------------------

    def _admin(self) -> AdminClient:
        if self._admin_client is None:
            self._admin_client = AdminClient({"bootstrap.servers": self.bootstrap_servers})
        return self._admin_client

    def _close_admin(self) -> None:
        # An AdminClient left connected to a stopped broker logs a refused connection every second:
        # close it before the broker goes away (the next helper call makes a new one).
        client, self._admin_client = self._admin_client, None
        if client is not None:
            client.__exit__(None, None, None)

    def _reader(self) -> Consumer:
        # A group id is mandatory, but the reader only assigns: it never joins nor commits.
        return Consumer(
            {
                "bootstrap.servers": self.bootstrap_servers,
                "group.id": f"streamer-testing-reader-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "isolation.level": "read_uncommitted",
                "fetch.wait.max.ms": 50,
            }
        )

    @staticmethod
    def _high_watermarks(
        consumer: Consumer,
        partitions: list[TopicPartition],
        timeout: float = _ADMIN_TIMEOUT_SECONDS,
    ) -> dict[int, int]:
        return {
            tp.partition: consumer.get_watermark_offsets(tp, timeout=timeout)[1]
            for tp in partitions
        }

    def _leaders_answer(self, topic: str, partitions: int) -> bool:
        metadata = self._admin().list_topics(topic=topic, timeout=_ADMIN_TIMEOUT_SECONDS)
        described = metadata.topics.get(topic)
        if described is None or described.error is not None:
            return False
        if len(described.partitions) != partitions or not all(
            p.leader >= 0 and p.error is None for p in described.partitions.values()
        ):
            return False
        # Metadata names a leader a moment before that broker acts as one ("not leader for
        # partition"): ask each partition for its offsets to be sure.
        try:
            with self._reader() as consumer:
                self._high_watermarks(
                    consumer, [TopicPartition(topic, p) for p in range(partitions)], timeout=5.0
                )
        except KafkaException:
            return False
        return True

    @staticmethod
    def _wait_for(condition: Callable[[], bool], timeout: float, failure: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{failure} after {timeout:.0f}s")
            time.sleep(0.05)
