"""The Kafka consumer, driven from asyncio without ever blocking the event loop.

Threads: every call on the confluent-kafka consumer runs on ONE dedicated worker thread (consume,
commit, pause, resume, close), so the consumer is never used concurrently. The event loop awaits
those calls. Rebalance callbacks fire inside ``consume()`` on the worker thread; they hand the
decision to the loop (``RebalanceHandler``) and wait for its answer, so all pipeline state is
touched by the loop thread only.

Lifecycle:

1. ``start()``: create the consumer (auto-commit off, cooperative-sticky assignment) and
   subscribe. The properties streamer sets here are refused in ``kafka.consumer``
   (``config/_kafka.py``), except librdkafka's prefetch limits (see "Prefetch"), which a
   ``kafka.consumer`` entry replaces.
2. ``poll()``: the next messages (up to ``poll_batch``), or an empty list after a short wait.
3. On assignment: each partition starts at an explicit offset (see "Where a partition starts"),
   then ``handler.assigned(keys, committed)`` (the group's offsets, for the lag); new
   partitions are paused too if consumption is paused (back-pressure).
4. On revocation: ``handler.revoked(keys)`` gives in-flight work its deadline and returns the
   offsets that are done; they are committed synchronously before the partitions go.
   On loss (the group moved on without us) nothing is committed.
5. ``close()``: leaves the group (a last revocation, so a last synchronous commit).

Where a partition starts (decided in ``_on_assign`` from the group's committed offsets, never
left to ``auto.offset.reset``):

- at its committed offset, when it has one;
- at its beginning, when the group has offsets on other partitions of the topic: a partition
  added to the topic later, whose every message is new to the group (nothing skipped);
- at ``kafka.start_from`` when the group has no offset on the topic at all: ``earliest`` is the
  partition's beginning; ``latest`` is its end *now*, committed at once, so that a rebalance or
  a restart before the first message resumes there instead of skipping what came meanwhile.
  A warning says so: a group that ran before had its offsets expire (the broker's
  ``offsets.retention.minutes``), and replay is the tool for a backfill.

``auto.offset.reset`` stays ``earliest``: it only applies when a committed offset is out of
range (the messages were deleted by retention), and then the earliest message still kept is
the right place, not the end.

Prefetch: librdkafka fetches ahead of ``consume()`` into its consumer queue (with
``subscribe``, one queue for every partition), up to ``queued.max.messages.kbytes`` (64 MiB
by default, counted decompressed) plus the fetch response on its way (``fetch.max.bytes``,
50 MB by default, counted compressed: with lz4 on JSON events a 50 MB response is about 200 MB
decompressed): outside Python, invisible to the back-pressure, and the larger part of the
process's memory under a backlog. Measured with 12 partitions (librdkafka's statistics), the
queue held up to 48 MB with 16 MiB allowed: one response of many partitions overshoots by its
decompressed size. :func:`prefetch_properties` sizes both from ``delivery.max_pending_bytes``:
an eighth of it for the queue, a thirty-second for one fetch (at least ``message.max.bytes``:
librdkafka raises it to that), and ``fetch.queue.backoff.ms`` to 20 ms (see there).
``max.partition.fetch.bytes`` keeps its 1 MB: a fetch of many
partitions is capped by ``fetch.max.bytes`` as a whole. :func:`prefetch_bytes` is what they
allow (the fetch counted :data:`_DECOMPRESSED` times), which the back-pressure takes off its
own byte budget (``docs/design-decisions.md``).

Commits: only partitions assigned right now are committed (the worker thread's view of the
assignment, so a commit queued before a revocation never lands on a partition that moved). An
asynchronous commit is answered by librdkafka's commit callback, from inside ``consume()`` on the
worker thread; a synchronous one by its return (confluent-kafka does not call the callback for
it). Answers of commits the loop does not await (asynchronous ones, the revocation's) are handed to
the loop with ``call_soon_threadsafe`` as a :class:`~streamer.offsets.CommitResult`.

After a rebalance the partition count of the subscribed topics is read from the consumer's
metadata (``partitions_total``) and ``rebalances`` is bumped: the pipeline takes its share of the
rate budget from them. It is read after ``consume()`` returns, never inside a callback:
confluent-kafka keeps one call state per thread, and a client call made inside a callback (such
as ``list_topics``) ends it, so that the next callback of the same ``consume()`` aborts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Coroutine, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import orjson
from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    OFFSET_INVALID,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from .._exceptions import KafkaClientError
from ..config import KafkaConfig
from ..observability import kafka_logger
from ..offsets import CommitResult, TopicPartitionKey

__all__ = [
    "KafkaSource", "RebalanceHandler", "commit_result", "prefetch_bytes", "prefetch_properties",
]

log = logging.getLogger("streamer.source")
_KAFKA_LOG = kafka_logger()  # throttled: an unreachable broker is one line per 10 s

T = TypeVar("T")
_METADATA_TIMEOUT_S = 2.0
_MESSAGE_MAX_BYTES = 1_000_000
"""librdkafka's default ``message.max.bytes``: the floor it puts under ``fetch.max.bytes``."""
_DEFAULT_PENDING_BYTES = 32 * 1024 * 1024
_DECOMPRESSED = 4
"""How much larger a fetch is once decompressed, as counted: lz4 on ~1 KB JSON events gives
3 to 4 (a backlog of 1 GB of values arrived as 0.3 GB)."""
_QUEUE_BACKOFF_MS = 20
"""``fetch.queue.backoff.ms`` (see :func:`prefetch_properties`)."""


def prefetch_properties(max_pending_bytes: int) -> dict[str, int]:
    """librdkafka's fetch limits from ``delivery.max_pending_bytes`` (see "Prefetch")."""
    return {
        "queued.max.messages.kbytes": max(1, max_pending_bytes // 8 // 1024),
        "fetch.max.bytes": max(_MESSAGE_MAX_BYTES, max_pending_bytes // 32),
        # Once the queue is full librdkafka waits this long before it looks again (1 s by
        # default): with a queue of a fraction of a second of work, the default starves the
        # loop (a third of the rate, measured); 20 ms keeps it fed at no measurable CPU.
        "fetch.queue.backoff.ms": _QUEUE_BACKOFF_MS,
    }


def prefetch_bytes(max_pending_bytes: int, consumer: Mapping[str, Any]) -> int:
    """Bytes librdkafka may hold ahead of ``consume()``: its queue and one fetch decompressed,
    as configured (``kafka.consumer`` entries replace what streamer derives)."""
    chosen = {**prefetch_properties(max_pending_bytes), **consumer}
    fetch = max(int(chosen["fetch.max.bytes"]),
                int(chosen.get("message.max.bytes", _MESSAGE_MAX_BYTES)))
    return int(chosen["queued.max.messages.kbytes"]) * 1024 + fetch * _DECOMPRESSED


class RebalanceHandler(Protocol):
    async def assigned(
        self, keys: list[TopicPartitionKey], committed: dict[TopicPartitionKey, int]
    ) -> None:
        """New partitions, with the group's committed offsets where there are some."""
        ...

    async def revoked(
        self, keys: list[TopicPartitionKey], *, lost: bool
    ) -> dict[TopicPartitionKey, int]:
        """Finish what can be finished; return the offsets to commit (empty when lost)."""
        ...


class KafkaSource:
    def __init__(
        self,
        config: KafkaConfig,
        handler: RebalanceHandler,
        *,
        poll_timeout_s: float = 0.1,
        overrides: dict[str, Any] | None = None,
        on_commit_result: Callable[[CommitResult], None] | None = None,
        on_high_watermark: Callable[[str, int, int, int], None] | None = None,
        stats_interval_ms: int = 5_000,
        heartbeat: Callable[[], None] | None = None,
        max_pending_bytes: int = _DEFAULT_PENDING_BYTES,
    ) -> None:
        self._config = config
        self._prefetch = prefetch_properties(max_pending_bytes)
        self._handler = handler
        self._poll_timeout = poll_timeout_s
        self._overrides = overrides or {}
        self._on_commit_result = on_commit_result
        self._on_high_watermark = on_high_watermark
        self._stats_interval_ms = stats_interval_ms
        self._heartbeat = heartbeat
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="streamer-kafka")
        self._consumer: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.assignment: set[TopicPartitionKey] = set()
        self.paused = False
        self.paused_alone: set[TopicPartitionKey] = set()
        """Partitions paused on their own (a hot contact's held items), whatever ``paused``."""
        self.partitions_total = 0
        self._partition_counts: dict[str, int] = {}
        """Partitions per subscribed topic, from metadata read outside the callbacks."""
        """Partitions of the subscribed topics, as of the last rebalance (0: not known yet)."""
        self.rebalances = 0
        """Bumped once ``partitions_total`` was read again after a rebalance."""
        self._rebalanced = False
        self._cooperative = True

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._run(self._start)

    def _start(self) -> None:
        cfg = self._config
        settings: dict[str, Any] = {
            # The prefetch limits first: an entry of kafka.consumer replaces them.
            **self._prefetch,
            # The user's next: the ones below are streamer's (config refuses them there).
            **cfg.consumer,
            "bootstrap.servers": cfg.bootstrap_servers,
            "group.id": cfg.group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "partition.assignment.strategy": "cooperative-sticky",
            "session.timeout.ms": cfg.session_timeout_ms,
            "heartbeat.interval.ms": max(100, cfg.session_timeout_ms // 4),
            "enable.partition.eof": False,
            "on_commit": self._committed,
            # librdkafka's own messages as log records (forwarded from consume()), in the
            # process's log format, instead of lines of its own on stderr; repeats are
            # summarised (see observability/_kafka_log.py).
            "logger": _KAFKA_LOG,
            **self._overrides,
        }
        if self._on_high_watermark is not None and self._stats_interval_ms > 0:
            # librdkafka knows each partition's end from its fetches and reports it in its
            # statistics, from inside consume(): no extra request to the broker.
            settings.setdefault("statistics.interval.ms", self._stats_interval_ms)
            settings["stats_cb"] = self._statistics
        # The protocol decides assign vs incremental_assign in the callbacks; confluent-kafka
        # does not expose it, so it is read from the strategy actually configured.
        self._cooperative = "cooperative" in str(settings["partition.assignment.strategy"])
        try:
            self._consumer = Consumer(settings)
            # Before any callback: the first assignment decides where partitions start from
            # the topics' partition counts (see _group_has_offsets).
            self._count_partitions(self._consumer)
            self._consumer.subscribe(
                list(cfg.topics),
                on_assign=self._on_assign,
                on_revoke=self._on_revoke,
                on_lost=self._on_lost,
            )
        except KafkaException as exc:
            raise KafkaClientError(f"cannot start the Kafka consumer: {exc}") from None

    async def close(self) -> None:
        if self._consumer is not None:
            await self._run(self._consumer.close)
            self._consumer = None
        self._thread.shutdown(wait=True)

    # -- the calls, all on the worker thread -------------------------------------------------

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, fn, *args)

    async def poll(self, wait_s: float | None = None) -> list[Message]:
        """The next messages; waits at most ``wait_s`` (at most ``poll_timeout_s``) for some."""
        wait = self._poll_timeout if wait_s is None else min(wait_s, self._poll_timeout)
        return await self._run(self._consume, wait)

    def _consume(self, wait_s: float) -> list[Message]:
        if self._heartbeat is not None:  # liveness: this thread still gets to consume()
            self._heartbeat()
        messages: list[Message] = self._consumer.consume(self._config.poll_batch, wait_s)
        if self._rebalanced:
            self._rebalanced = False
            self._count_partitions(self._consumer)
            self.rebalances += 1
        return messages

    async def commit(
        self, offsets: dict[TopicPartitionKey, int], asynchronous: bool
    ) -> CommitResult | None:
        """Commit ``offsets`` of assigned partitions. Synchronous: the broker's answer;
        asynchronous: ``None``, the answer goes to ``on_commit_result`` later."""
        if not offsets:
            return None if asynchronous else CommitResult(synchronous=True)
        return await self._run(self._commit, offsets, asynchronous)

    def _commit(
        self, offsets: dict[TopicPartitionKey, int], asynchronous: bool
    ) -> CommitResult | None:
        assigned = self.assignment
        partitions = [
            TopicPartition(t, p, o) for (t, p), o in offsets.items() if (t, p) in assigned
        ]
        if not partitions:
            return None if asynchronous else CommitResult(synchronous=True)
        try:
            answer = self._consumer.commit(offsets=partitions, asynchronous=asynchronous)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else exc
            return commit_result(error, partitions, synchronous=not asynchronous)
        if asynchronous:
            return None
        return commit_result(None, answer or [], synchronous=True)

    def _committed(self, err: Any, partitions: list[TopicPartition]) -> None:
        # librdkafka's answer to an asynchronous commit, inside consume() on the worker thread.
        self._hand_over(commit_result(err, partitions, synchronous=False))

    def _hand_over(self, result: CommitResult) -> None:
        report, loop = self._on_commit_result, self._loop
        if report is None or loop is None or (not result.confirmed and not result.failed):
            return
        # A closed loop: nobody is left to keep the answer.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(report, result)

    def _statistics(self, text: str) -> None:
        report = self._on_high_watermark
        if report is None:
            return
        try:
            topics = orjson.loads(text).get("topics", {})
        except orjson.JSONDecodeError:
            return
        for topic, data in topics.items():
            for name, partition in data.get("partitions", {}).items():
                low, high = partition.get("lo_offset", -1), partition.get("hi_offset", -1)
                number = int(name)
                if number >= 0 and high >= 0 and (topic, number) in self.assignment:
                    report(topic, number, low, high)

    async def pause(self) -> None:
        if not self.paused:
            self.paused = True
            await self._run(self._set_paused, True, None)

    async def resume(self) -> None:
        if self.paused:
            self.paused = False
            await self._run(self._set_paused, False, self.assignment - self.paused_alone)

    async def pause_partitions(self, keys: Iterable[TopicPartitionKey]) -> None:
        """Pause these partitions alone, until :meth:`resume_partitions` (a global pause and
        resume leave them paused)."""
        new = (set(keys) & self.assignment) - self.paused_alone
        if new:
            self.paused_alone |= new
            if not self.paused:
                await self._run(self._set_paused, True, new)

    async def resume_partitions(self, keys: Iterable[TopicPartitionKey]) -> None:
        gone = set(keys) & self.paused_alone
        if gone:
            self.paused_alone -= gone
            if not self.paused:
                await self._run(self._set_paused, False, gone & self.assignment)

    def _set_paused(self, paused: bool, keys: Iterable[TopicPartitionKey] | None) -> None:
        if self._consumer is None:
            return
        chosen = self.assignment if keys is None else keys
        partitions = [TopicPartition(t, p) for t, p in chosen]
        if not partitions:
            return
        if paused:
            self._consumer.pause(partitions)
        else:
            self._consumer.resume(partitions)

    # -- rebalance callbacks (worker thread) -----------------------------------------------

    def _ask_loop(self, coro: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _count_partitions(self, consumer: Any) -> None:
        """Partitions of the subscribed topics (names, or ``^`` patterns), from metadata."""
        try:
            topics = consumer.list_topics(timeout=_METADATA_TIMEOUT_S).topics
        except KafkaException as exc:
            log.warning("cannot read the topics' partition counts (rate share kept): %s", exc)
            return
        names = [t for t in self._config.topics if not t.startswith("^")]
        patterns = [re.compile(t) for t in self._config.topics if t.startswith("^")]
        total = 0
        for name, meta in topics.items():
            if name in names or any(p.match(name) for p in patterns):
                total += len(meta.partitions)
                self._partition_counts[name] = len(meta.partitions)
        if total:
            self.partitions_total = total

    def _on_assign(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        keys = [(tp.topic, tp.partition) for tp in partitions]
        log.info("assigned %s", keys)
        self._rebalanced = True
        committed = self._read_committed(consumer, partitions)
        if committed is None:
            starts: dict[TopicPartitionKey, int] = dict.fromkeys(keys, OFFSET_INVALID)
            fresh: dict[TopicPartitionKey, int] = {}
            committed = {}
        else:
            starts, fresh = self._start_offsets(consumer, keys, committed)
        if fresh:
            # `latest` is resolved to an offset and committed now: it is where the group starts.
            committed.update(self._commit_start(consumer, fresh))
        self._ask_loop(self._handler.assigned(keys, committed))
        chosen = [TopicPartition(t, p, starts[(t, p)]) for t, p in keys]
        if self._cooperative:
            consumer.incremental_assign(chosen)
        else:
            consumer.assign(chosen)
        self.assignment.update(keys)
        if self.paused:
            consumer.pause(chosen)

    @staticmethod
    def _read_committed(
        consumer: Any, partitions: list[TopicPartition]
    ) -> dict[TopicPartitionKey, int] | None:
        try:
            found = consumer.committed(partitions, 10.0)
        except KafkaException as exc:
            # No guess of `latest` (it would skip messages): librdkafka reads the committed
            # offsets itself when the partitions are assigned, else starts at the earliest.
            log.warning("cannot read committed offsets of %s (%s): starting at the committed "
                        "offset or, without one, the earliest", partitions, exc)
            return None
        return {(tp.topic, tp.partition): tp.offset for tp in found if tp.offset >= 0}

    def _start_offsets(
        self,
        consumer: Any,
        keys: list[TopicPartitionKey],
        committed: dict[TopicPartitionKey, int],
    ) -> tuple[dict[TopicPartitionKey, int], dict[TopicPartitionKey, int]]:
        """Each partition's start (see the module docstring) and the ``latest`` ones resolved
        to an offset (to commit)."""
        starts: dict[TopicPartitionKey, int] = {}
        fresh: dict[TopicPartitionKey, int] = {}
        topics_with_offsets: dict[str, bool] = {}
        for key in keys:
            if key in committed:
                starts[key] = committed[key]
                continue
            topic = key[0]
            if topic not in topics_with_offsets:
                topics_with_offsets[topic] = self._group_has_offsets(
                    consumer, topic, keys, committed
                )
                if not topics_with_offsets[topic]:
                    log.warning(
                        "group %s has no committed offset on topic %s: starting from %s "
                        "(kafka.start_from). If this group ran before, its offsets expired "
                        "(the broker's offsets.retention.minutes); use replay to backfill",
                        self._config.group_id, topic, self._config.start_from,
                    )
            if topics_with_offsets[topic]:
                log.info("partition %s:%d is new to the group: starting at its beginning", *key)
                starts[key] = OFFSET_BEGINNING
            elif self._config.start_from == "earliest":
                starts[key] = OFFSET_BEGINNING
            else:
                end = self._end_offset(consumer, key)
                starts[key] = OFFSET_END if end is None else end
                if end is not None:
                    fresh[key] = end
        return starts, fresh

    def _commit_start(
        self, consumer: Any, fresh: dict[TopicPartitionKey, int]
    ) -> dict[TopicPartitionKey, int]:
        """Commit the resolved ``latest`` starts; return those the broker confirmed."""
        partitions = [TopicPartition(t, p, o) for (t, p), o in fresh.items()]
        try:
            answer = consumer.commit(offsets=partitions, asynchronous=False)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else exc
            result = commit_result(error, partitions, synchronous=True)
        else:
            result = commit_result(None, answer or [], synchronous=True)
        if result.failed:
            # Not fatal: without the commit a restart starts these partitions at their
            # beginning (the group has offsets elsewhere then), which skips nothing.
            log.warning("cannot commit the start offsets of %s", sorted(result.failed))
        return dict(result.confirmed)

    def _group_has_offsets(
        self,
        consumer: Any,
        topic: str,
        keys: list[TopicPartitionKey],
        committed: dict[TopicPartitionKey, int],
    ) -> bool:
        """Whether the group has a committed offset on any partition of ``topic``."""
        if any(t == topic for t, _ in committed):
            return True
        # The partition count comes from metadata read outside the callbacks (list_topics inside
        # one ends confluent-kafka's call state, and the next callback of consume() aborts).
        count = max([self._partition_counts.get(topic, 0), *(p + 1 for t, p in keys if t == topic)])
        try:
            found = consumer.committed([TopicPartition(topic, p) for p in range(count)], 10.0)
        except KafkaException as exc:
            # Unknown: starting new partitions at their beginning skips nothing.
            log.warning("cannot read the group's offsets on topic %s (%s): its partitions "
                        "without an offset start at their beginning", topic, exc)
            return True
        return any(tp.offset >= 0 for tp in found)

    @staticmethod
    def _end_offset(consumer: Any, key: TopicPartitionKey) -> int | None:
        try:
            _, high = consumer.get_watermark_offsets(TopicPartition(*key), timeout=10.0)
        except KafkaException as exc:
            log.warning("cannot read the end of %s:%d (%s): starting at its end", *key, exc)
            return None
        return int(high) if high >= 0 else None

    def _on_revoke(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        keys = [(tp.topic, tp.partition) for tp in partitions]
        log.info("revoked %s", keys)
        self._rebalanced = True
        offsets = self._ask_loop(self._handler.revoked(keys, lost=False))
        if offsets:
            # Still assigned during the callback: the last chance to commit them, ever.
            result = self._commit(offsets, asynchronous=False)
            if result is not None:  # refusals are logged by the checkpoint, on the loop
                self._hand_over(result)
        self._forget(consumer, partitions, keys)

    def _on_lost(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        keys = [(tp.topic, tp.partition) for tp in partitions]
        log.warning("partitions lost %s: their in-flight work is abandoned", keys)
        self._rebalanced = True
        self._ask_loop(self._handler.revoked(keys, lost=True))
        self._forget(consumer, partitions, keys)

    def _forget(
        self, consumer: Any, partitions: list[TopicPartition], keys: list[TopicPartitionKey]
    ) -> None:
        if self._cooperative:
            consumer.incremental_unassign(partitions)
        else:
            consumer.unassign()
        self.assignment.difference_update(keys)
        self.paused_alone.difference_update(keys)


def commit_result(
    err: Any, partitions: list[TopicPartition], *, synchronous: bool
) -> CommitResult:
    """Per partition: stored, or refused with the request's or the partition's error."""
    result = CommitResult(synchronous=synchronous)
    if isinstance(err, KafkaError) and err.code() == KafkaError._NO_OFFSET:
        return result  # nothing was there to commit
    for tp in partitions:
        key = (tp.topic, tp.partition)
        error = tp.error or err
        if error is None:
            result.confirmed[key] = tp.offset
        else:
            result.failed[key] = str(error)
    return result
