"""What the operator's commands ask the cluster: partitions, ends, times, groups, offsets.

:class:`ClusterView` is blocking and short-lived: ``replay``, ``status`` and ``offsets reset``
open one, ask their questions before anything is sent or changed, and close it. It reads by
assignment only (a consumer with a throw-away group id that never subscribes nor commits), so
looking never moves a group. Every error it raises is a :class:`UsageError` (the command cannot
be carried out as asked) or a :class:`KafkaClientError` (the cluster did not answer).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from .._exceptions import KafkaClientError, UsageError
from ..config import KafkaConfig

__all__ = ["ClusterView", "GroupMember", "admin_settings", "member_names"]

_KAFKA_LOG = logging.getLogger("streamer.kafka")

# Connection properties an AdminClient understands too (TLS, SASL, client id, sockets); the
# consumer-only ones of ``kafka.consumer`` would only make librdkafka warn.
_SHARED_PREFIXES = ("security.", "sasl.", "ssl.", "socket.", "client.", "broker.", "metadata.")


_COORDINATOR_MOVING = frozenset({
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS, KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.NOT_COORDINATOR,
})


def admin_settings(kafka: KafkaConfig) -> dict[str, Any]:
    """Settings of an AdminClient for the configured cluster (TLS and SASL kept)."""
    shared = {k: v for k, v in kafka.consumer.items() if k.startswith(_SHARED_PREFIXES)}
    return {"bootstrap.servers": kafka.bootstrap_servers, **shared, "logger": _KAFKA_LOG}


@dataclass(frozen=True, slots=True)
class GroupMember:
    member_id: str
    client_id: str
    host: str
    assignment: tuple[tuple[str, int], ...]


def member_names(members: Iterable[GroupMember]) -> str:
    """``client.id@host`` of each member, sorted, once each: who a refusal names."""
    return ", ".join(sorted({f"{m.client_id}@{m.host}" for m in members}))


class ClusterView:
    def __init__(self, kafka: KafkaConfig, *, timeout_s: float = 15.0) -> None:
        self._kafka = kafka
        self._timeout = timeout_s
        self._admin = AdminClient(admin_settings(kafka))
        self._reader = Consumer({
            **kafka.consumer,
            "bootstrap.servers": kafka.bootstrap_servers,
            "group.id": f"streamer-look-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": False,
            "logger": _KAFKA_LOG,
        })

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> ClusterView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- topics ----------------------------------------------------------------------------

    def partitions(self, topic: str) -> list[int]:
        """The partitions of ``topic``; a :class:`UsageError` when it does not exist."""
        try:
            metadata = self._admin.list_topics(topic=topic, timeout=self._timeout)
        except KafkaException as exc:
            raise KafkaClientError(f"cannot read the metadata of topic {topic}: {exc}") from None
        described = metadata.topics.get(topic)
        if described is None or described.error is not None or not described.partitions:
            raise UsageError(f"topic {topic!r} does not exist on {self._kafka.bootstrap_servers}")
        return sorted(described.partitions)

    def watermarks(self, topic: str, partitions: Iterable[int]) -> dict[int, tuple[int, int]]:
        """Per partition ``(low, high)``: its first offset and its end (the next to be written)."""
        out: dict[int, tuple[int, int]] = {}
        for partition in partitions:
            try:
                low, high = self._reader.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=self._timeout
                )
            except KafkaException as exc:
                raise KafkaClientError(f"cannot read the ends of {topic}[{partition}]: {exc}") \
                    from None
            out[partition] = (int(low), int(high))
        return out

    def offsets_for_time(
        self, topic: str, partitions: Iterable[int], timestamp_ms: int
    ) -> dict[int, int]:
        """Per partition the first offset whose timestamp is at or after ``timestamp_ms``;
        the partition's end when no record is that recent (the broker answers -1)."""
        chosen = list(partitions)
        query = [TopicPartition(topic, p, timestamp_ms) for p in chosen]
        try:
            found = self._reader.offsets_for_times(query, timeout=self._timeout)
        except KafkaException as exc:
            raise KafkaClientError(f"cannot look up offsets by time in {topic}: {exc}") from None
        ends = self.watermarks(topic, [tp.partition for tp in found if tp.offset < 0])
        return {
            tp.partition: int(tp.offset) if tp.offset >= 0 else ends[tp.partition][1]
            for tp in found
        }

    def read_one(self, topic: str, partition: int, offset: int) -> tuple[int, int] | None:
        """``(offset, timestamp_ms)`` of the first record at or after ``offset`` (by
        assignment), or None when there is none before the end."""
        low, high = self.watermarks(topic, [partition])[partition]
        if offset >= high:
            return None
        self._reader.assign([TopicPartition(topic, partition, max(offset, low))])
        try:
            message = self._reader.poll(self._timeout)
        finally:
            self._reader.unassign()
        if message is None or message.error() is not None:
            return None
        _, stamp = message.timestamp()
        found = message.offset()
        return (offset if found is None else int(found)), int(stamp)

    def scan(
        self, topic: str, starts: Mapping[int, int], ends: Mapping[int, int],
        *, limit: int | None = None,
    ) -> Iterator[Message]:
        """The records of ``topic`` from ``starts`` to ``ends`` (exclusive) per partition, read
        by assignment, at most ``limit``. Done per partition when the position reached its end."""
        todo = {p: e for p, e in ends.items() if starts.get(p, e) < e}
        if not todo:
            return
        self._reader.assign([TopicPartition(topic, p, starts[p]) for p in todo])
        read = 0
        quiet_since = time.monotonic()
        try:
            while todo and (limit is None or read < limit):
                messages = self._reader.consume(500, 0.2)
                for message in messages:
                    error = message.error()
                    if error is not None:
                        if error.fatal():
                            raise KafkaClientError(f"reading {topic}: {error}")
                        continue
                    partition = message.partition()
                    offset = message.offset()
                    if partition in todo and offset is not None and offset < todo[partition]:
                        read += 1
                        yield message
                        if limit is not None and read >= limit:
                            return
                positions = self._reader.position([TopicPartition(topic, p) for p in todo])
                for tp in positions:
                    if tp.offset >= todo[tp.partition]:
                        del todo[tp.partition]
                if messages:
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since > self._timeout:
                    raise KafkaClientError(
                        f"reading {topic}: no record for {self._timeout:g}s before the end of "
                        f"partition(s) {sorted(todo)}")
        finally:
            self._reader.unassign()

    # -- groups ----------------------------------------------------------------------------

    def committed(self, group: str, topic: str) -> dict[int, int]:
        """Offsets ``group`` committed on ``topic`` (a partition never committed is absent)."""
        try:
            futures = self._admin.list_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(group)], request_timeout=self._timeout
            )
            answer = futures[group].result(self._timeout)
        except KafkaException as exc:
            raise KafkaClientError(f"cannot read the offsets of group {group}: {exc}") from None
        return {
            int(tp.partition): int(tp.offset)
            for tp in answer.topic_partitions or ()
            if tp.topic == topic and tp.offset >= 0
        }

    def members(self, group: str) -> list[GroupMember]:
        """The live members of ``group`` and their assignment (none: nobody consumes)."""
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                futures = self._admin.describe_consumer_groups(
                    [group], request_timeout=self._timeout)
                described = futures[group].result(self._timeout)
                break
            except KafkaException as exc:
                error = exc.args[0] if exc.args else None
                code = error.code() if isinstance(error, KafkaError) else None
                if code == KafkaError.GROUP_ID_NOT_FOUND:
                    return []
                # The group's coordinator is loading or moving (a broker that just started,
                # a failover): it answers within moments.
                if code in _COORDINATOR_MOVING and time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                raise KafkaClientError(f"cannot describe group {group}: {exc}") from None
        return [
            GroupMember(
                member_id=m.member_id, client_id=m.client_id, host=m.host,
                assignment=tuple(sorted(
                    (tp.topic, tp.partition)
                    for tp in (m.assignment.topic_partitions if m.assignment else ()) or ()
                )),
            )
            for m in described.members or ()
        ]

    def refuse_if_in_use(self, group: str, what: str) -> None:
        """A :class:`UsageError` when ``group`` has live members (they would fight over it)."""
        members = self.members(group)
        if members:
            hosts = member_names(members)
            raise UsageError(
                f"group {group!r} has {len(members)} live member(s) ({hosts}): {what} refused "
                "while it is in use; stop its consumers first"
            )

    def set_offsets(self, group: str, topic: str, offsets: Mapping[int, int]) -> None:
        """Commit ``offsets`` for ``group`` (the group must have no live members)."""
        request = ConsumerGroupTopicPartitions(
            group, [TopicPartition(topic, p, o) for p, o in sorted(offsets.items())]
        )
        try:
            futures = self._admin.alter_consumer_group_offsets(
                [request], request_timeout=self._timeout
            )
            answer = futures[group].result(self._timeout)
        except KafkaException as exc:
            raise KafkaClientError(f"cannot set the offsets of group {group}: {exc}") from None
        failed = [tp for tp in answer.topic_partitions or () if tp.error is not None]
        if failed:
            raise KafkaClientError(
                f"group {group}: offsets refused for "
                + ", ".join(f"{tp.topic}[{tp.partition}]: {tp.error}" for tp in failed)
            )
