"""The pipeline: orchestration only. Each step lives in its own module.

Lifecycle of :meth:`Pipeline.run`:

1. Start: the dead-letter writer, the consumer (subscribe), the health server.
2. Loop until asked to stop:
   a. take the next messages (the consumer thread fetches while the loop works),
   b. dispatch them (decode, route, map, window),
   c. hand closed windows (by size, bytes or linger) to the sender,
   d. every ``commit_interval``: a checkpoint (asynchronous commit),
   e. back-pressure: pause all partitions above the high-water mark of unfinished items, or
      while Ortto refuses the key; resume below the low-water mark.
3. Stop (SIGTERM, SIGINT, or a fatal error): no new messages; open windows are sent; in-flight
   work gets the grace period; what is done is committed synchronously; the consumer leaves
   the group. What is not done stays uncommitted, and is redone by whoever reads next.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..batching import Batch, Batcher
from ..config import Config, KafkaConfig
from ..deadletter import DeadLetterWriter
from ..observability import HealthServer, Metrics
from ..offsets import Checkpoint, OffsetTracker, TopicPartitionKey
from ..sender import Governors, OrttoClient, RetryPolicy, Sender
from ..source import KafkaSource, decode_json
from ._dispatch import Dispatcher
from ._outcomes import Outcomes

__all__ = ["Pipeline", "PipelineStats"]

log = logging.getLogger("streamer.pipeline")

_HOLDBACK_WARNING_S = 60.0


@dataclass(slots=True, frozen=True)
class PipelineStats:
    consumed: int
    filtered: int
    delivered: int
    rejected: int
    dead_lettered: int
    pending_messages: int
    committed: dict[TopicPartitionKey, int]


class Pipeline:
    def __init__(
        self,
        config: Config,
        *,
        router: Any,
        client: OrttoClient,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.monotonic,
        consumer_overrides: dict[str, Any] | None = None,
    ) -> None:
        if config.kafka is None:
            raise ValueError("the pipeline needs the kafka section")
        kafka: KafkaConfig = config.kafka
        self.config = config
        self.metrics = metrics or Metrics()
        self._clock = clock
        self._stop = asyncio.Event()
        self._key_ok = True
        self._running = False
        self._fatal: BaseException | None = None
        self.committed: dict[TopicPartitionKey, int] = {}
        self._warned: dict[TopicPartitionKey, float] = {}

        self.tracker = OffsetTracker()
        self.dead_letter = DeadLetterWriter(
            kafka.bootstrap_servers, kafka.dead_letter_topic, extra=dict(kafka.producer)
        )
        self.batcher = Batcher(
            max_items=config.batching.max_items,
            max_bytes=config.batching.max_bytes,
            linger_s=config.batching.linger_ms / 1000.0,
            clock=clock,
            route_limit=router.max_items,
        )
        self.outcomes = Outcomes(
            dead_letter=self.dead_letter, metrics=self.metrics,
            on_auth_changed=self._auth_changed,
        )
        delivery = config.delivery
        self.governors = Governors(
            max_in_flight=delivery.max_in_flight, rate_per_s=delivery.rate_per_s, clock=clock
        )
        self.client = client
        self.sender = Sender(
            client, self.outcomes,
            policy=RetryPolicy(
                retryable=delivery.retryable_statuses, budget_s=delivery.retry_budget_s,
                initial_s=delivery.backoff_initial_s, max_s=delivery.backoff_max_s,
            ),
            governor=self.governors, clock=clock,
        )
        self.dispatcher = Dispatcher(
            decode=decode_json, route=router.route, tracker=self.tracker,
            batcher=self.batcher, dead_letter=self.dead_letter, metrics=self.metrics,
            clock=clock, max_event_bytes=kafka.max_event_bytes,
        )
        self._ends: dict[TopicPartitionKey, tuple[int, int]] = {}
        self.source = KafkaSource(
            kafka, self, overrides=consumer_overrides,
            on_high_watermark=self._high_watermark,
        )
        self.checkpoint = Checkpoint(
            self.tracker, self.dead_letter, self.source.commit, on_commit=self._committed
        )
        self.health: HealthServer | None = None
        if config.metrics.port is not None:
            self.health = HealthServer(
                self.metrics.registry, ready=self.readiness,
                host=config.metrics.host, port=config.metrics.port,
            )

    # -- control ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask for a clean shutdown (safe from a signal handler on the loop)."""
        self._stop.set()

    def readiness(self) -> tuple[bool, str]:
        if self._fatal is not None:
            return False, f"stopped: {type(self._fatal).__name__}"
        if not self._running:
            return False, "not running"
        if not self._key_ok:
            return False, "Ortto refuses the API key; probing"
        if not self.source.assignment:
            return False, "no partitions assigned"
        return True, "delivering"

    def stats(self) -> PipelineStats:
        return PipelineStats(
            consumed=self.dispatcher.consumed,
            filtered=self.dispatcher.filtered,
            delivered=self.outcomes.delivered_items,
            rejected=self.dispatcher.rejected_local + self.outcomes.rejected_items,
            dead_lettered=self.dead_letter.written,
            pending_messages=self.tracker.pending,
            committed=dict(self.committed),
        )

    # -- the loop --------------------------------------------------------------------------

    async def run(self) -> None:
        assert self.config.kafka is not None
        interval = self.config.kafka.commit_interval_ms / 1000.0
        await self.source.start()
        if self.health is not None:
            await self.health.start()
        self._running = True
        next_commit = self._clock() + interval
        try:
            while not self._stop.is_set():
                messages = await self.source.poll()
                if messages:
                    self.dispatcher.process(messages)
                self._send(self.batcher.take_ready())
                self._send(self.batcher.due())
                self.dead_letter.poll()
                if self._clock() >= next_commit:
                    await self.checkpoint.run()
                    self._watermarks()
                    next_commit = self._clock() + interval
                await self._back_pressure()
                self._update_gauges()
        except BaseException as exc:
            self._fatal = exc
            raise
        finally:
            self._running = False
            await self._shutdown()

    def _send(self, batches: list[Batch]) -> None:
        for batch in batches:
            self.sender.submit(batch)

    async def _back_pressure(self) -> None:
        high = self.config.delivery.max_pending_items
        unfinished = self.batcher.waiting + self.sender.in_flight_items + self.dead_letter.pending
        should_pause = not self._key_ok or unfinished > high
        if should_pause and not self.source.paused:
            log.info("pausing consumption (%d unfinished items, key ok: %s)",
                     unfinished, self._key_ok)
            await self.source.pause()
        elif not should_pause and self.source.paused and unfinished <= high // 2:
            log.info("resuming consumption (%d unfinished items)", unfinished)
            await self.source.resume()

    def _auth_changed(self, ok: bool) -> None:
        self._key_ok = ok
        self.metrics.key_refused.set(0 if ok else 1)

    # -- shutdown --------------------------------------------------------------------------

    async def _shutdown(self) -> None:
        grace = self.config.delivery.shutdown_grace_s
        deadline = self._clock() + grace
        try:
            if self._fatal is None:
                self._send(self.batcher.drain())
                done = await self.sender.drain(max(0.0, deadline - self._clock()))
                if not done:
                    log.warning("grace period over: undelivered work stays uncommitted")
                self.dead_letter.flush(max(0.1, deadline - self._clock()))
                await self.checkpoint.run(synchronous=True)
        finally:
            await self.sender.aclose()
            await self.source.close()
            self.dead_letter.close(1.0)
            if self.health is not None:
                await self.health.stop()
            await self.client.aclose()

    # -- rebalance (RebalanceHandler) --------------------------------------------------------

    async def assigned(
        self, keys: list[TopicPartitionKey], committed: dict[TopicPartitionKey, int]
    ) -> None:
        self.tracker.assign(keys, committed)

    async def revoked(
        self, keys: list[TopicPartitionKey], *, lost: bool
    ) -> dict[TopicPartitionKey, int]:
        keyset = set(keys)
        if not lost:
            # Windows are sent now so their items get the revoke deadline too.
            self._send(self.batcher.drain())
            deadline = self._clock() + self.config.delivery.revoke_grace_s
            while self._clock() < deadline and any(
                (s := self.tracker.get(*k)) is not None and s.pending for k in keys
            ):
                self.dead_letter.poll()
                await asyncio.sleep(0.01)
            self.dead_letter.poll()
        self.batcher.discard(keyset)
        states = self.tracker.revoke(keys)
        if lost:
            return {}
        offsets = {k: o for k, s in states.items() if (o := s.to_commit()) is not None}
        self._committed(offsets)
        return offsets

    def _committed(self, offsets: dict[TopicPartitionKey, int]) -> None:
        self.committed.update(offsets)
        for (topic, partition), offset in offsets.items():
            self.metrics.committed_offset.labels(topic, str(partition)).set(offset)

    def _high_watermark(self, topic: str, partition: int, low: int, high: int) -> None:
        # On the consumer's thread: a plain dict store, read by the loop at the next checkpoint.
        self._ends[(topic, partition)] = (low, high)

    def lag(self) -> dict[TopicPartitionKey, int]:
        """Per partition: messages from the first not done (the commit point) to the end."""
        out: dict[TopicPartitionKey, int] = {}
        for state in self.tracker:
            ends = self._ends.get(state.key)
            if ends is None:
                continue
            low, high = ends
            done_up_to = state.committable()
            if done_up_to is None:
                # Nothing read yet: reading starts at the commit, or at the log's start.
                done_up_to = state.committed if state.committed is not None else max(low, 0)
            out[state.key] = max(0, high - done_up_to)
        return out

    def watermarks(self) -> dict[TopicPartitionKey, tuple[int, float] | None]:
        """Per partition: the offset holding the commit back and for how long (or None)."""
        now = self._clock()
        out: dict[TopicPartitionKey, tuple[int, float] | None] = {}
        for state in self.tracker:
            held = state.holding_back()
            out[state.key] = None if held is None else (held.offset, now - held.dispatched_at)
        return out

    def _watermarks(self) -> None:
        seconds, offset = self.metrics.holdback_seconds, self.metrics.holdback_offset
        for (topic, partition), behind in self.lag().items():
            self.metrics.consumer_lag.labels(topic, str(partition)).set(behind)
        now = self._clock()
        for (topic, partition), held in self.watermarks().items():
            labels = (topic, str(partition))
            seconds.labels(*labels).set(0.0 if held is None else held[1])
            offset.labels(*labels).set(-1 if held is None else held[0])
            # A commit held back for minutes is what an operator must hear about (a batch
            # stuck in retries, a key refused), without one line per checkpoint.
            if held is not None and held[1] >= _HOLDBACK_WARNING_S and (
                now - self._warned.get((topic, partition), -1e18) >= _HOLDBACK_WARNING_S
            ):
                self._warned[(topic, partition)] = now
                log.warning("commit of %s[%d] held back %.0fs by offset %d (not yet done)",
                            topic, partition, held[1], held[0],
                            extra={"topic": topic, "partition": partition, "offset": held[0]})

    def _update_gauges(self) -> None:
        m = self.metrics
        m.in_flight_items.set(self.batcher.waiting + self.sender.in_flight_items)
        m.pending_messages.set(self.tracker.pending)
        m.paused.set(1 if self.source.paused else 0)
        m.ready.set(1 if self.readiness()[0] else 0)
        for path, governor in self.governors.by_path.items():
            m.concurrency_limit.labels(path).set(governor.limit)
