"""A bounded source: a range of offsets per partition, read by assignment.

This is what ``streamer replay`` reads through the live pipeline. It never subscribes, so it
never joins the live group and never moves its offsets: it assigns each partition at the range's
start and knows the range's end (exclusive).

Lifecycle:

1. ``start()``: create the consumer (group id: ``--group`` when progress is recorded, a
   throw-away one otherwise), tell the handler which partitions are read and from where, assign.
2. ``poll()``: the next messages inside the ranges, at most ``rate_per_s`` per second (a token
   bucket before the pipeline dispatches anything). Records fetched past a range's end are
   dropped here, never dispatched.
3. After each fetch: the consumer's *position* per partition. A partition is done when its
   position reached the end (transaction markers and compaction leave gaps, so the last offset
   seen is not enough); it is then paused, and :attr:`done` is true once all are.
4. ``commit()``: with a group, a synchronous commit (it returns once the broker confirmed it);
   without, nothing (the pipeline still records what is done, to print where to resume).
5. ``close()``: no group to leave; the consumer simply closes.

Calls on the consumer run on one worker thread, as in :class:`~streamer.source.KafkaSource`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from .._exceptions import KafkaClientError
from ..config import KafkaConfig
from ..offsets import CommitResult
from ._consumer import RebalanceHandler, commit_result, prefetch_properties

__all__ = ["PartitionRange", "RangeSource"]

log = logging.getLogger("streamer.source")
_KAFKA_LOG = logging.getLogger("streamer.kafka")

TopicPartitionKey = tuple[str, int]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PartitionRange:
    topic: str
    partition: int
    start: int
    end: int
    """Exclusive: the first offset not read."""

    @property
    def key(self) -> TopicPartitionKey:
        return (self.topic, self.partition)

    @property
    def size(self) -> int:
        return max(0, self.end - self.start)


class _TokenBucket:
    """At most ``rate`` tokens per second on average, with bursts of up to half a second's worth:
    a loop iteration slowed by a loaded machine (or a long dispatch) does not lose its share."""

    def __init__(self, rate: float, clock: Callable[[], float]) -> None:
        self._rate = rate
        self._capacity = max(1.0, rate / 2.0)
        self._tokens = 1.0
        self._clock = clock
        self._refilled = clock()

    def available(self) -> int:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._refilled) * self._rate)
        self._refilled = now
        return int(self._tokens)

    def wait_s(self) -> float:
        return max(0.0, (1.0 - self._tokens) / self._rate)

    def take(self, count: int) -> None:
        self._tokens -= count


class RangeSource:
    def __init__(
        self,
        config: KafkaConfig,
        handler: RebalanceHandler,
        ranges: Sequence[PartitionRange],
        *,
        group_id: str | None = None,
        rate_per_s: float | None = None,
        poll_timeout_s: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        max_pending_bytes: int = 32 * 1024 * 1024,
    ) -> None:
        self._config = config
        # librdkafka's prefetch is part of the byte budget, as for `run` (see _consumer.py).
        self._prefetch = prefetch_properties(max_pending_bytes)
        self._handler = handler
        self.ranges = {r.key: r for r in ranges}
        self._group_id = group_id
        self._poll_timeout = poll_timeout_s
        self._clock = clock
        self._bucket = _TokenBucket(rate_per_s, clock) if rate_per_s else None
        self._first_read: tuple[float, int] | None = None
        self._last_read = 0.0
        self._events = 0
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="streamer-range")
        self._consumer: Any = None
        self._ends = {k: r.end for k, r in self.ranges.items()}
        self.positions: dict[TopicPartitionKey, int] = {k: r.start for k, r in self.ranges.items()}
        """Per partition the consumer's position (next offset to read), for the progress."""
        self._finished: set[TopicPartitionKey] = {k for k, r in self.ranges.items() if not r.size}
        self.assignment: set[TopicPartitionKey] = set()
        self.paused = False
        self.paused_alone: set[TopicPartitionKey] = set()
        """Partitions paused on their own (a hot contact's held items), whatever ``paused``."""
        self.rebalances = 0
        """Never bumped: a range has no group to rebalance, and its rate budget is its own."""
        self.partitions_total = len(self.ranges)

    @property
    def done(self) -> bool:
        """Every partition's position reached its range's end."""
        return len(self._finished) == len(self.ranges)

    @property
    def read(self) -> int:
        """Offsets of the ranges read so far (gaps included): the progress numerator."""
        return sum(min(self.positions[k], r.end) - r.start for k, r in self.ranges.items())

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        open_ranges = [r for k, r in self.ranges.items() if k not in self._finished]
        keys = [r.key for r in open_ranges]
        await self._handler.assigned(keys, {r.key: r.start for r in open_ranges})
        await self._run(self._start, open_ranges)

    def _start(self, open_ranges: list[PartitionRange]) -> None:
        cfg = self._config
        settings: dict[str, Any] = {
            **self._prefetch,
            **cfg.consumer,
            "bootstrap.servers": cfg.bootstrap_servers,
            # Without --group the id is never committed to; with it, only this process commits.
            "group.id": self._group_id or f"streamer-replay-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": False,
            "logger": _KAFKA_LOG,
        }
        try:
            self._consumer = Consumer(settings)
            self._consumer.assign(
                [TopicPartition(r.topic, r.partition, r.start) for r in open_ranges]
            )
        except KafkaException as exc:
            raise KafkaClientError(f"cannot start the Kafka consumer: {exc}") from None
        self.assignment.update(r.key for r in open_ranges)

    async def close(self) -> None:
        if self._consumer is not None:
            await self._run(self._consumer.close)
            self._consumer = None
        self._thread.shutdown(wait=True)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    # -- reading ---------------------------------------------------------------------------

    async def poll(self, wait_s: float | None = None) -> list[Message]:
        """The next messages of the ranges; waits at most ``wait_s`` (at most
        ``poll_timeout_s``) for some."""
        wait = self._poll_timeout if wait_s is None else min(wait_s, self._poll_timeout)
        limit = self._config.poll_batch
        bucket = self._bucket
        if bucket is not None:
            available = bucket.available()
            if available < 1:
                await asyncio.sleep(min(bucket.wait_s(), wait))
                return []
            limit = min(limit, available)
        messages = await self._run(self._consume, limit, wait)
        if messages:
            if bucket is not None:
                bucket.take(len(messages))
            now = self._clock()
            if self._first_read is None:
                self._first_read = (now, len(messages))
            self._last_read = now
            self._events += len(messages)
        return messages

    def read_rate(self) -> float:
        """Events read per second, from the first fetch to the last (start-up excluded)."""
        if self._first_read is None:
            return 0.0
        first_at, first_count = self._first_read
        seconds = self._last_read - first_at
        return (self._events - first_count) / seconds if seconds > 0 else float(self._events)

    def _consume(self, limit: int, wait_s: float) -> list[Message]:
        if self.done or self._consumer is None:
            time.sleep(wait_s)
            return []
        messages: list[Any] = self._consumer.consume(limit, wait_s)
        ends = self._ends
        kept: list[Message] = [
            m for m in messages
            if m.error() is not None or m.offset() < ends[(m.topic(), m.partition())]
        ]
        self._update_positions()
        return kept

    def _update_positions(self) -> None:
        reading = [TopicPartition(t, p) for t, p in self.assignment if (t, p) not in self._finished]
        if not reading:
            return
        reached: list[TopicPartition] = []
        for tp in self._consumer.position(reading):
            if tp.offset < 0:  # nothing consumed yet: still at the start
                continue
            key = (tp.topic, tp.partition)
            self.positions[key] = tp.offset
            if tp.offset >= self._ends[key]:
                self._finished.add(key)
                reached.append(TopicPartition(tp.topic, tp.partition))
        if reached:
            # Nothing more is wanted from it: stop fetching past the end.
            self._consumer.pause(reached)
            log.info("range done: %s", [(tp.topic, tp.partition) for tp in reached])

    async def pause(self) -> None:
        if not self.paused:
            self.paused = True
            await self._run(self._set_paused, True, self.assignment)

    async def resume(self) -> None:
        if self.paused:
            self.paused = False
            await self._run(self._set_paused, False,
                            self.assignment - self._finished - self.paused_alone)

    async def pause_partitions(self, keys: Iterable[TopicPartitionKey]) -> None:
        """Pause these partitions alone, until :meth:`resume_partitions`."""
        new = (set(keys) & self.assignment) - self.paused_alone
        if new:
            self.paused_alone |= new
            if not self.paused:
                await self._run(self._set_paused, True, new - self._finished)

    async def resume_partitions(self, keys: Iterable[TopicPartitionKey]) -> None:
        gone = set(keys) & self.paused_alone
        if gone:
            self.paused_alone -= gone
            if not self.paused:
                await self._run(self._set_paused, False, gone - self._finished)

    def _set_paused(self, paused: bool, keys: Iterable[TopicPartitionKey]) -> None:
        partitions = [TopicPartition(t, p) for t, p in keys]
        if self._consumer is None or not partitions:
            return
        if paused:
            self._consumer.pause(partitions)
        else:
            self._consumer.resume(partitions)

    # -- progress --------------------------------------------------------------------------

    async def commit(
        self, offsets: dict[TopicPartitionKey, int], asynchronous: bool
    ) -> CommitResult:
        """Record progress in the group, confirmed by the broker before this returns (the
        asynchronous flag is ignored: a bounded run commits seldom and must know it did).
        Without a group there is nothing to record: what is done counts as kept, and the
        pipeline's record of it is where an interrupted run resumes."""
        if not offsets:
            return CommitResult(synchronous=True)
        if self._group_id is None:
            return CommitResult(confirmed=dict(offsets), synchronous=True)
        return await self._run(self._commit, offsets)

    def _commit(self, offsets: dict[TopicPartitionKey, int]) -> CommitResult:
        partitions = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
        try:
            answer = self._consumer.commit(offsets=partitions, asynchronous=False)
        except KafkaException as exc:
            # Refused: counted as not done, sent again at the next checkpoint (as in `run`).
            return commit_result(exc.args[0] if exc.args else exc, partitions, synchronous=True)
        return commit_result(None, answer or [], synchronous=True)
