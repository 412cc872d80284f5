"""The pipeline: orchestration only. Each step lives in its own module.

Lifecycle of :meth:`Pipeline.run`:

1. Start: the dead-letter writer, the consumer (subscribe), the health server (its own
   thread), the event loop's heartbeat and the periodic Kafka probe (``observability/_vitals``).
2. Loop until asked to stop:
   a. take the next messages (the consumer thread fetches while the loop works),
   b. dispatch them (decode, route, map, window),
   c. hand closed windows (by size, bytes or linger) to the sender,
   d. every ``commit_interval``: a checkpoint (asynchronous commit; the broker's answer comes
      back through the consumer's commit callback, and only confirmed offsets count:
      ``committed``, the tracker, ``streamer_committed_offset``), the watermark gauges (lag in
      messages and seconds, holdback: ``_gauges.py``) and the dead-letter and retry log summaries
      that are due,
   e. back-pressure (``_backpressure``): pause all partitions above the high-water mark of
      unfinished items (held for per-contact ordering included) or of the bytes held, or while
      Ortto refuses the key; resume below half. A partition whose items held for ordering pass
      ``delivery.ordering_pause_share`` of the items' mark (a hot contact) pauses alone, and
      resumes below half of that.
   A bug latched by the sender (a delivery task that died) is raised at the top of the loop.
   On a rebalance the source calls :meth:`Pipeline.assigned` and :meth:`Pipeline.revoked`;
   what a revocation does to the work in progress is in ``_rebalance.py``.
3. Stop on SIGTERM or SIGINT: no new messages; open windows are sent; in-flight work gets the
   grace period; what is done is committed synchronously; the consumer leaves the group (its
   revocation commits what the shutdown commit could not). What is not done stays uncommitted,
   and is redone by whoever reads next.
   Stop on a fatal error: ``_fatal`` holds it (readiness reads it: unready), nothing more is
   sent or committed beyond what the leaving consumer's revocation commits, and ``run`` raises.

Rate: ``delivery.rate_per_s`` is the group's budget for every request to Ortto. After every
rebalance (seen when a poll returns) the process takes the share of its assigned partitions out
of all partitions of its topics (``client.rate``; gauges ``streamer_rate_share_ratio`` and
``streamer_rate_limit_requests_per_second``).

A bounded run (``replay``, ``redrive``) gives its own source (``source_factory``: a range read
by assignment) and ``finished``: the loop then also ends once the source reached its end and
every piece of work settled, and the stop is the same clean stop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..batching import Batch, Batcher, ContactOrder
from ..config import Config, KafkaConfig
from ..deadletter import DeadLetterWriter
from ..observability import ClusterProbe, HealthServer, Heartbeats, Metrics
from ..offsets import Checkpoint, CommitResult, OffsetTracker, TopicPartitionKey
from ..sender import Governors, OrttoClient, RetryPolicy, Sender
from ..source import KafkaSource, build_decoding, prefetch_bytes
from ._backpressure import BackPressure, pipeline_holders
from ._dispatch import Dispatcher
from ._gauges import PipelineGauges
from ._outcomes import Outcomes
from ._pausing import Pausing
from ._rebalance import Rebalance

__all__ = ["Pipeline", "PipelineStats"]

log = logging.getLogger("streamer.pipeline")


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
        source_factory: Callable[[Pipeline], Any] | None = None,
        finished: Callable[[], bool] | None = None,
        dead_letter: DeadLetterWriter | None = None,
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
        """The error that stopped the loop (readiness reports it); ``None`` while healthy."""
        self.committed: dict[TopicPartitionKey, int] = {}
        """Per partition, the highest offset the broker confirmed as committed by this process."""
        self._rebalances_seen = 0

        self.tracker = OffsetTracker()
        # A redrive brings a writer that keeps each letter's first failure and counts redrives.
        self.dead_letter = dead_letter or DeadLetterWriter(
            kafka.bootstrap_servers, kafka.dead_letter_topic, extra=dict(kafka.producer)
        )
        self.batcher = Batcher(
            max_items=config.batching.max_items,
            max_bytes=config.batching.max_bytes,
            linger_s=config.batching.linger_ms / 1000.0,
            clock=clock,
            route_limit=router.max_items,
        )
        delivery = config.delivery
        # Per endpoint, at most one unconfirmed item per contact (batching/_ordering.py).
        self.order: ContactOrder | None = (
            ContactOrder(self.batcher.add) if delivery.ordering == "per_contact" else None
        )
        self.outcomes = Outcomes(
            dead_letter=self.dead_letter, metrics=self.metrics,
            on_auth_changed=self._auth_changed, order=self.order,
            on_released=self._send_released,
        )
        self.governors = Governors(max_in_flight=delivery.max_in_flight, clock=clock)
        self.client = client
        # The budget of the group, every endpoint together; the share follows the assignment.
        client.rate.configure(delivery.rate_per_s)
        self._rate_gauges()
        self.sender = Sender(
            client, self.outcomes,
            policy=RetryPolicy(
                retryable=delivery.retryable_statuses, budget_s=delivery.retry_budget_s,
                initial_s=delivery.backoff_initial_s, max_s=delivery.backoff_max_s,
            ),
            governor=self.governors, clock=clock, on_request=self._request_made,
        )
        # JSON or Avro; a registry's schemas are fetched by its gate, in front of the Dispatcher.
        self.decoding = build_decoding(kafka)
        self.dispatcher = Dispatcher(
            decode=self.decoding.decode, route=router.route, tracker=self.tracker,
            batcher=self.batcher, dead_letter=self.dead_letter, metrics=self.metrics,
            clock=clock, max_event_bytes=kafka.max_event_bytes, order=self.order,
            screen=router.value_screen(),
        )
        self.gauges = PipelineGauges(self.metrics, self.tracker, clock=clock)
        self.rebalance = Rebalance(
            tracker=self.tracker, batcher=self.batcher, order=self.order,
            decoding=self.decoding, dead_letter=self.dead_letter, send=self._send,
            grace_s=delivery.revoke_grace_s, clock=clock,
        )
        self.liveness = Heartbeats(config.metrics.liveness_timeout_s)
        # A bounded run (replay, redrive) brings its own source, and ``finished`` says when the
        # source reached its end; the loop then ends once every piece of work has settled.
        self._finished = finished
        self.source = KafkaSource(
            kafka, self, overrides=consumer_overrides,
            on_high_watermark=self.gauges.high_watermark, on_commit_result=self._commit_answered,
            heartbeat=lambda: self.liveness.beat("consumer thread"),
            max_pending_bytes=delivery.max_pending_bytes,
        ) if source_factory is None else source_factory(self)
        # What librdkafka may prefetch is part of the byte budget (docs/design-decisions.md).
        held_bytes = delivery.max_pending_bytes - prefetch_bytes(
            delivery.max_pending_bytes, {**kafka.consumer, **(consumer_overrides or {})})
        self.pressure = BackPressure(
            pipeline_holders(batcher=self.batcher, sender=self.sender,
                             dead_letter=self.dead_letter, decoding=self.decoding,
                             tracker=self.tracker),
            max_items=delivery.max_pending_items,
            max_bytes=max(held_bytes, delivery.max_pending_bytes // 4),
        )
        if self.order is not None:
            self.pressure.add(self.order)  # items held for per-contact ordering
        self.pausing = Pausing(
            self.source, self.pressure, self.metrics, order=self.order,
            hot_limit=int(delivery.max_pending_items * delivery.ordering_pause_share),
        )
        # Readiness needs a broker round trip now and then (see observability/_vitals.py).
        probe_s = max(0.5, kafka.session_timeout_ms / 4000.0)
        self.cluster = ClusterProbe(self.dead_letter.probe, interval_s=probe_s, timeout_s=probe_s)
        self.checkpoint = Checkpoint(
            self.tracker, self.dead_letter, self.source.commit, on_result=self._committed
        )
        self.health: HealthServer | None = None
        if config.metrics.port is not None:
            self.health = HealthServer(
                self.metrics.registry, ready=self.readiness, alive=self.liveness.check,
                host=config.metrics.host, port=config.metrics.port,
            )

    # -- control ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask for a clean shutdown (safe from a signal handler on the loop)."""
        self._stop.set()

    def readiness(self) -> tuple[bool, str]:
        """Ready: running, alive, the key accepted, Kafka answering and the dead-letter topic
        writable. Partitions are not needed: a replica without any (more replicas than
        partitions, a rebalance under way) is healthy and waiting, and a rollout must not stall
        on it. Called from the health server's thread: it only reads."""
        if self._fatal is not None:
            return False, f"stopped: {type(self._fatal).__name__}"
        if not self._running:
            return False, "not running"
        alive, why = self.liveness.check()
        if not alive:
            return False, why
        if not self._key_ok:
            return False, "Ortto refuses the API key; probing"
        if self.dead_letter.failed:
            return False, f"a record could not be written to {self.dead_letter.topic}"
        reachable, why = self.cluster.state()
        if not reachable:
            return False, why
        if (registry := self.decoding.problem) is not None:
            return False, registry
        if not self.source.assignment:
            return True, "waiting for partitions"
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
        self.liveness.start_ticking("event loop")
        self.cluster.start()
        self._running = True
        next_commit = self._clock() + interval
        try:
            while not self._stop.is_set():
                self.sender.raise_if_failed()
                messages = self.decoding.admit(await self.source.poll(self._poll_wait()))
                if self.source.rebalances != self._rebalances_seen:
                    self._rebalances_seen = self.source.rebalances
                    self._reshare()
                if messages:
                    self.dispatcher.process(messages)
                self._send(self.batcher.take_ready())
                if self.client.rate.has_token():
                    # Without a token of the rate budget now, a window closed by its linger
                    # would only wait for one: it stays open and fills (requests as full as
                    # the budget allows), and closes by size or once a token is there.
                    self._send(self.batcher.due())
                self.dead_letter.poll()
                if self._clock() >= next_commit:
                    await self.checkpoint.run()
                    self.gauges.checkpoint(self.dispatcher.last_dispatched)
                    self._flush_logs()
                    next_commit = self._clock() + interval
                await self.pausing.apply(key_ok=self._key_ok)
                self._update_gauges()
                if self._finished is not None and self._settled():
                    break
        except BaseException as exc:
            self._fatal = exc
            raise
        finally:
            self._running = False
            await self._shutdown()

    def _poll_wait(self) -> float | None:
        """How long the next poll may wait for messages: until the first window's linger is
        over, so that it closes on time rather than up to a poll late (a contact's items go
        one round trip each: that lateness was paid per item). None: the source's own wait
        (no window open, or no token of the rate budget to close one with)."""
        return self.batcher.wait_s() if self.client.rate.has_token() else None

    def _flush_logs(self, *, everything: bool = False) -> None:
        self.dead_letter.flush_log(everything=everything)
        self.outcomes.flush_log(everything=everything)

    def _settled(self) -> bool:
        """A bounded run is over: its source reached the end and every piece of work settled."""
        assert self._finished is not None
        if not self._finished():
            return False
        self._send(self.batcher.drain())  # nothing more comes: no window waits for its linger
        return self.tracker.pending == 0 and self.dead_letter.pending == 0

    def _send(self, batches: list[Batch]) -> None:
        for batch in batches:
            self.sender.submit(batch)

    def _send_released(self) -> None:
        # An answer released held items (per-contact order): the windows they filled go now.
        self._send(self.batcher.take_ready())

    def _auth_changed(self, ok: bool) -> None:
        self._key_ok = ok
        self.metrics.key_refused.set(0 if ok else 1)

    # -- shutdown --------------------------------------------------------------------------

    async def _shutdown(self) -> None:
        # The consumer is no longer called while the rest finishes: not a sign of death.
        self.liveness.retire("consumer thread")
        grace = self.config.delivery.shutdown_grace_s
        deadline = self._clock() + grace
        try:
            if self._fatal is None:
                while True:
                    self._send(self.batcher.drain())
                    done = await self.sender.drain(max(0.0, deadline - self._clock()))
                    # Items held for ordering were released into windows meanwhile.
                    if not done or self.batcher.empty:
                        break
                if not done:
                    log.warning("grace period over: undelivered work stays uncommitted")
                self.dead_letter.flush(max(0.1, deadline - self._clock()))
                await self.checkpoint.run(synchronous=True)
        finally:
            self._flush_logs(everything=True)
            await self.sender.aclose()
            self.decoding.close()
            await self.source.close()
            self.dead_letter.close(1.0)
            if self.health is not None:
                await self.health.stop()
            await self.cluster.stop()
            await self.liveness.stop_ticking()
            await self.client.aclose()

    # -- rebalance (RebalanceHandler: the work is in _rebalance.py) -------------------------

    async def assigned(
        self, keys: list[TopicPartitionKey], committed: dict[TopicPartitionKey, int]
    ) -> None:
        await self.rebalance.assigned(keys, committed)

    async def revoked(
        self, keys: list[TopicPartitionKey], *, lost: bool
    ) -> dict[TopicPartitionKey, int]:
        return await self.rebalance.revoked(keys, lost=lost, running=self._running)

    # -- commits and the rate share --------------------------------------------------------

    def _commit_answered(self, result: CommitResult) -> None:
        # On the loop (handed over by the source): an asynchronous or a revocation's commit.
        self.checkpoint.confirm(result)

    def _committed(self, result: CommitResult) -> None:
        committed, gauge = self.committed, self.metrics.committed_offset
        for key, offset in result.confirmed.items():
            if offset > committed.get(key, -1):
                committed[key] = offset
                gauge.labels(key[0], str(key[1])).set(offset)
        self.metrics.committed_offsets.labels(
            "sync" if result.synchronous else "async", "ok" if result.ok else "failed"
        ).inc()

    def _reshare(self) -> None:
        rate = self.client.rate
        if rate.budget is None:
            return
        total = self.source.partitions_total
        rate.set_share(len(self.tracker), total)
        self._rate_gauges()
        log.info("rate share: %d of %d partitions, %.3g of %.3g requests/s",
                 len(self.tracker), total, rate.rate or 0.0, rate.budget)

    def _rate_gauges(self) -> None:
        rate = self.client.rate
        self.metrics.rate_share.set(rate.share)
        self.metrics.rate_limit.set(float("inf") if rate.rate is None else rate.rate)

    def _request_made(self, path: str, status_class: str, items: int, seconds: float) -> None:
        series = self.metrics.request(path, status_class)
        series.total.inc()
        series.duration.observe(seconds)
        if items:  # the key probe carries none
            series.items.observe(items)

    def lag(self) -> dict[TopicPartitionKey, int]:
        """Per partition: messages from the first not done (the commit point) to the end."""
        return self.gauges.lag()

    def watermarks(self) -> dict[TopicPartitionKey, tuple[int, float] | None]:
        """Per partition: the offset holding the commit back and for how long (or None)."""
        return self.gauges.watermarks()

    def _update_gauges(self) -> None:
        order = self.order
        self.gauges.update(
            in_flight=self.batcher.waiting + self.sender.in_flight_items,
            pending=self.tracker.pending, paused=self.source.paused,
            held=None if order is None else order.held,
            paused_alone=len(self.source.paused_alone), ready=self.readiness()[0],
            governors=self.governors.by_path,
        )
