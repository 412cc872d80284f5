"""When the pipeline pauses its source: the whole of it, or one partition alone.

Once per turn of the loop, after the turn's work, :meth:`Pausing.apply`:

1. with per-contact order, pauses on its own each partition whose items held for ordering pass
   ``delivery.ordering_pause_share`` of ``delivery.max_pending_items`` (a hot contact: a shared
   anonymousId, a bot), and resumes it once they are back under half of that: the other
   partitions keep flowing;
2. asks :class:`~streamer.app._backpressure.BackPressure` whether to pause or resume the whole
   source (what the parts hold against the pending limits, and whether Ortto accepts the key),
   and does it. A global resume leaves the partitions paused alone as they are.

It decides and logs; the counts are the holders' own, and the source does the pausing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from ..batching import ContactOrder
from ..observability import Metrics
from ..offsets import TopicPartitionKey
from ._backpressure import BackPressure, Verdict

__all__ = ["PausableSource", "Pausing"]

log = logging.getLogger("streamer.pipeline")


class PausableSource(Protocol):
    @property
    def paused(self) -> bool: ...

    @property
    def paused_alone(self) -> set[TopicPartitionKey]: ...

    async def pause(self) -> None: ...

    async def resume(self) -> None: ...

    async def pause_partitions(self, keys: Iterable[TopicPartitionKey]) -> None: ...

    async def resume_partitions(self, keys: Iterable[TopicPartitionKey]) -> None: ...


class Pausing:
    def __init__(
        self,
        source: PausableSource,
        pressure: BackPressure,
        metrics: Metrics,
        *,
        order: ContactOrder | None,
        hot_limit: int,
    ) -> None:
        self._source = source
        self._pressure = pressure
        self._metrics = metrics
        self._order = order
        self._hot_limit = hot_limit
        """Items held for ordering above which a partition pauses alone."""

    async def apply(self, *, key_ok: bool) -> None:
        if self._order is not None:
            await self._hot_partitions(self._order, self._hot_limit)
        source = self._source
        verdict, held = self._pressure.decide(paused=source.paused, key_ok=key_ok)
        self._metrics.pending_bytes.set(held.nbytes)
        if verdict is Verdict.PAUSE:
            log.info("pausing consumption (%d unfinished items, %d bytes held, key ok: %s)",
                     held.items, held.nbytes, key_ok)
            await source.pause()
        elif verdict is Verdict.RESUME:
            log.info("resuming consumption (%d unfinished items, %d bytes held)",
                     held.items, held.nbytes)
            await source.resume()

    async def _hot_partitions(self, order: ContactOrder, limit: int) -> None:
        held = order.held_by_partition
        source = self._source
        if held:
            hot = [k for k in order.hot_partitions(limit) if k not in source.paused_alone]
            if hot:
                log.info("pausing %s alone: more than %d items held for ordering (a hot "
                         "contact)", hot, limit)
                await source.pause_partitions(hot)
        if source.paused_alone:
            cool = [k for k in source.paused_alone if held.get(k, 0) <= limit // 2]
            if cool:
                log.info("resuming %s: items held for ordering back under %d", cool, limit // 2)
                await source.resume_partitions(cool)
