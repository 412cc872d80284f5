"""The pipeline's gauges: written from its parts' state, never kept by the parts themselves.

Two moments:

- every turn of the loop (:meth:`PipelineGauges.update`): items in flight, messages pending,
  pause states, items held for ordering, readiness, the governors' limits; cheap reads only;
- every checkpoint (:meth:`PipelineGauges.checkpoint`): lag in messages and seconds
  (``_lag.py``) against the partition ends librdkafka's statistics reported, and the commit
  holdback (offset and age of the oldest unfinished message), with a warning when a commit has
  been held back for a minute (once a minute per partition).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from ..observability import Metrics
from ..offsets import OffsetTracker, PartitionOffsets, TopicPartitionKey
from ..sender import Governor
from ._lag import lag_messages, lag_seconds

__all__ = ["PipelineGauges"]

log = logging.getLogger("streamer.pipeline")

_HOLDBACK_WARNING_S = 60.0


class PipelineGauges:
    def __init__(
        self, metrics: Metrics, tracker: OffsetTracker, *, clock: Callable[[], float]
    ) -> None:
        self._metrics = metrics
        self._tracker = tracker
        self._clock = clock
        self._ends: dict[TopicPartitionKey, tuple[int, int]] = {}
        self._warned: dict[TopicPartitionKey, float] = {}

    def high_watermark(self, topic: str, partition: int, low: int, high: int) -> None:
        # On the consumer's thread: a plain dict store, read by the loop at the next checkpoint.
        self._ends[(topic, partition)] = (low, high)

    def lag(self) -> dict[TopicPartitionKey, int]:
        """Per partition: messages from the first not done (the commit point) to the end."""
        return lag_messages(self._tracker, self._ends)

    def watermarks(self) -> dict[TopicPartitionKey, tuple[int, float] | None]:
        """Per partition: the offset holding the commit back and for how long (or None)."""
        now = self._clock()
        out: dict[TopicPartitionKey, tuple[int, float] | None] = {}
        for state in self._tracker:
            held = state.holding_back()
            out[state.key] = None if held is None else (held.offset, now - held.dispatched_at)
        return out

    def checkpoint(
        self, last_dispatched: Mapping[TopicPartitionKey, tuple[PartitionOffsets, int]]
    ) -> None:
        m = self._metrics
        behind = self.lag()
        for (topic, partition), count in behind.items():
            m.consumer_lag.labels(topic, str(partition)).set(count)
        now = self._clock()
        for (topic, partition), age in lag_seconds(
            self._tracker, behind, last_dispatched, wall_now=time.time(), now=now
        ).items():
            m.consumer_lag_seconds.labels(topic, str(partition)).set(age)
        for (topic, partition), held in self.watermarks().items():
            labels = (topic, str(partition))
            m.holdback_seconds.labels(*labels).set(0.0 if held is None else held[1])
            m.holdback_offset.labels(*labels).set(-1 if held is None else held[0])
            # A commit held back for minutes is what an operator must hear about (a batch
            # stuck in retries, a key refused), without one line per checkpoint.
            if held is not None and held[1] >= _HOLDBACK_WARNING_S and (
                now - self._warned.get((topic, partition), -1e18) >= _HOLDBACK_WARNING_S
            ):
                self._warned[(topic, partition)] = now
                log.warning("commit of %s[%d] held back %.0fs by offset %d (not yet done)",
                            topic, partition, held[1], held[0],
                            extra={"topic": topic, "partition": partition, "offset": held[0]})

    def update(
        self, *, in_flight: int, pending: int, paused: bool, held: int | None,
        paused_alone: int, ready: bool, governors: Mapping[str, Governor],
    ) -> None:
        m = self._metrics
        m.in_flight_items.set(in_flight)
        m.pending_messages.set(pending)
        m.paused.set(1 if paused else 0)
        if held is not None:  # per-contact ordering is on
            m.ordering_held.set(held)
            m.partitions_paused_alone.set(paused_alone)
        m.ready.set(1 if ready else 0)
        for path, governor in governors.items():
            m.concurrency_limit.labels(path).set(governor.limit)
