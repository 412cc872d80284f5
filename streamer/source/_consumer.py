"""The Kafka consumer, driven from asyncio without ever blocking the event loop.

Threads: every call on the confluent-kafka consumer runs on ONE dedicated worker thread (consume,
commit, pause, resume, close), so the consumer is never used concurrently. The event loop awaits
those calls. Rebalance callbacks fire inside ``consume()`` on the worker thread; they hand the
decision to the loop (``RebalanceHandler``) and wait for its answer, so all pipeline state is
touched by the loop thread only.

Lifecycle:

1. ``start()``: create the consumer (auto-commit off, cooperative-sticky assignment) and
   subscribe.
2. ``poll()``: the next messages (up to ``poll_batch``), or an empty list after a short wait.
3. On assignment: ``handler.assigned(keys, committed)`` (the group's offsets, for the lag);
   new partitions are paused too if consumption is paused (back-pressure).
4. On revocation: ``handler.revoked(keys)`` gives in-flight work its deadline and returns the
   offsets that are done; they are committed synchronously before the partitions go.
   On loss (the group moved on without us) nothing is committed.
5. ``close()``: leaves the group (a last revocation, so a last synchronous commit).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import orjson
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from .._exceptions import KafkaClientError
from ..config import KafkaConfig
from ..observability import kafka_logger

__all__ = ["KafkaSource", "RebalanceHandler"]

log = logging.getLogger("streamer.source")
_KAFKA_LOG = kafka_logger()  # throttled: an unreachable broker is one line per 10 s

TopicPartitionKey = tuple[str, int]
T = TypeVar("T")


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
        on_commit_error: Callable[[str], None] | None = None,
        on_high_watermark: Callable[[str, int, int, int], None] | None = None,
        stats_interval_ms: int = 5_000,
        heartbeat: Callable[[], None] | None = None,
    ) -> None:
        self._config = config
        self._handler = handler
        self._poll_timeout = poll_timeout_s
        self._overrides = overrides or {}
        self._on_commit_error = on_commit_error
        self._on_high_watermark = on_high_watermark
        self._stats_interval_ms = stats_interval_ms
        self._heartbeat = heartbeat
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="streamer-kafka")
        self._consumer: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.assignment: set[TopicPartitionKey] = set()
        self.paused = False
        self._cooperative = True

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._run(self._start)

    def _start(self) -> None:
        cfg = self._config
        settings: dict[str, Any] = {
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
            **cfg.consumer,
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

    async def poll(self) -> list[Message]:
        return await self._run(self._consume)

    def _consume(self) -> list[Message]:
        if self._heartbeat is not None:  # liveness: this thread still gets to consume()
            self._heartbeat()
        messages: list[Message] = self._consumer.consume(
            self._config.poll_batch, self._poll_timeout
        )
        return messages

    async def commit(self, offsets: dict[TopicPartitionKey, int], asynchronous: bool) -> None:
        if offsets:
            await self._run(self._commit, offsets, asynchronous)

    def _commit(self, offsets: dict[TopicPartitionKey, int], asynchronous: bool) -> None:
        partitions = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
        try:
            self._consumer.commit(offsets=partitions, asynchronous=asynchronous)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else exc
            if isinstance(error, KafkaError) and error.code() == KafkaError._NO_OFFSET:
                return
            raise KafkaClientError(f"commit failed: {error}") from None

    def _committed(self, err: Any, partitions: list[TopicPartition]) -> None:
        if err is not None and self._on_commit_error is not None:
            self._on_commit_error(str(err))

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
            await self._run(self._set_paused, False, None)

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

    async def committed(self, keys: Iterable[TopicPartitionKey]) -> dict[TopicPartitionKey, int]:
        """Offsets committed for the group (for tests and the watermark display)."""
        partitions = [TopicPartition(t, p) for t, p in keys]
        found = await self._run(self._consumer.committed, partitions, 10.0)
        return {(tp.topic, tp.partition): tp.offset for tp in found if tp.offset >= 0}

    # -- rebalance callbacks (worker thread) -----------------------------------------------

    def _ask_loop(self, coro: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _on_assign(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        keys = [(tp.topic, tp.partition) for tp in partitions]
        log.info("assigned %s", keys)
        committed: dict[TopicPartitionKey, int] = {}
        try:
            for tp in consumer.committed(partitions, 10.0):
                if tp.offset >= 0:
                    committed[(tp.topic, tp.partition)] = tp.offset
        except KafkaException as exc:  # only the lag display needs them
            log.warning("cannot read committed offsets of %s: %s", keys, exc)
        self._ask_loop(self._handler.assigned(keys, committed))
        if self._cooperative:
            consumer.incremental_assign(partitions)
        else:
            consumer.assign(partitions)
        self.assignment.update(keys)
        if self.paused:
            consumer.pause(partitions)

    def _on_revoke(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        keys = [(tp.topic, tp.partition) for tp in partitions]
        log.info("revoked %s", keys)
        offsets = self._ask_loop(self._handler.revoked(keys, lost=False))
        if offsets:
            try:
                self._commit(offsets, asynchronous=False)
            except KafkaClientError as exc:
                log.warning("commit on revoke failed (the next owner redoes the rest): %s", exc)
        self._forget(consumer, partitions, keys)

    def _on_lost(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        keys = [(tp.topic, tp.partition) for tp in partitions]
        log.warning("partitions lost %s: their in-flight work is abandoned", keys)
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
