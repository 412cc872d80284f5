"""A topic read back many times without starting over: the poll loop of a long test.

:meth:`KafkaCluster.consume_all <streamer.testing.KafkaCluster.consume_all>` makes a consumer,
finds the leaders and reads the whole topic on every call: half a second or more, which a test
that polls a topic every few hundred milliseconds (the fault proofs check the dead letters on
every round) cannot spend. A :class:`TopicTail` keeps one consumer assigned to every partition
from the beginning and the records read so far; each :meth:`TopicTail.read` reads only what was
written since, up to the end offsets of that moment, so that what a test saw committed before
the read is in the answer.

Lifecycle: made by :meth:`KafkaCluster.tail <streamer.testing.KafkaCluster.tail>` (the
consumer connects then), read any number of times from one thread, closed by ``close`` or the
``with`` block. It never joins a group nor commits.
"""

from __future__ import annotations

import time
from types import TracebackType

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

from ._cluster import ConsumedMessage, _to_consumed

__all__ = ["TopicTail"]


class TopicTail:
    """Every record of one topic, caught up on each :meth:`read`."""

    def __init__(self, consumer: Consumer, topic: str, partitions: int) -> None:
        self.topic = topic
        self._consumer = consumer
        self._partitions = [TopicPartition(topic, p) for p in range(partitions)]
        self._next = dict.fromkeys(range(partitions), 0)
        self._records: list[ConsumedMessage] = []
        # Asking for the end offsets first also connects to the leaders: a consumer assigned
        # before its first request spends half a second finding them.
        self._ends()
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])

    def _ends(self) -> dict[int, int]:
        return {
            tp.partition: self._consumer.get_watermark_offsets(tp, timeout=30.0)[1]
            for tp in self._partitions
        }

    def read(self, *, min_count: int = 0, timeout: float = 10.0) -> list[ConsumedMessage]:
        """The records so far, sorted by partition and offset, read up to the end offsets of
        now. With ``min_count``, keeps reading records that arrive later until there are that
        many; if ``timeout`` passes first, returns what was read (the caller's assertion then
        shows what is missing)."""
        deadline = time.monotonic() + timeout
        end = self._ends()
        fresh = False
        while time.monotonic() < deadline:
            if len(self._records) >= min_count and all(
                self._next[p] >= offset for p, offset in end.items()
            ):
                break
            message = self._consumer.poll(min(0.2, max(deadline - time.monotonic(), 0.0)))
            if message is None:
                if len(self._records) < min_count:
                    end = self._ends()
                continue
            error = message.error()
            if error is not None:
                raise KafkaException(error)
            record = _to_consumed(message)
            self._records.append(record)
            self._next[record.partition] = record.offset + 1
            fresh = True
        if fresh:
            self._records.sort(key=lambda m: (m.partition, m.offset))
        return list(self._records)

    def close(self) -> None:
        self._consumer.close()

    def __enter__(self) -> TopicTail:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
