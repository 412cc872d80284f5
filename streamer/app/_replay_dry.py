"""``replay --dry-run``: the range mapped as the pipeline maps it, with nothing sent or written.

Each message of the range is decoded and routed by the same router a replay compiles (the
chosen subscriptions; audience ids are placeholders, as ``streamer preview`` shows them, since
no request is made). Counted: items per endpoint and subscription, rejects per ``stage/reason``
(the reasons the pipeline would dead-letter with), skips per reason, filtered events; a few items
per subscription are kept as samples. No Ortto client, no dead-letter producer, no commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from .._exceptions import DecodeError
from ..config import Config
from ..offsets import TopicPartitionKey
from ..routing import Accepted, Rejected, compile_router
from ..source import PartitionRange, RangeSource, RebalanceHandler, decode_json
from ._replay import ReplayOptions, ReplaySummary, replay_config

__all__ = ["DryRun"]

_PLACEHOLDER = "<dry run: id of audience {name!r}>"


class _NoGroup:
    """The dry run's rebalance handler: a range source has no group to hear from."""

    async def assigned(
        self, keys: list[TopicPartitionKey], committed: dict[TopicPartitionKey, int]
    ) -> None:
        return None

    async def revoked(
        self, keys: list[TopicPartitionKey], *, lost: bool
    ) -> dict[TopicPartitionKey, int]:
        return {}


class DryRun:
    def __init__(
        self,
        config: Config,
        ranges: Sequence[PartitionRange],
        options: ReplayOptions,
        *,
        samples_per_subscription: int = 3,
        source_factory: Callable[[RebalanceHandler], RangeSource] | None = None,
    ) -> None:
        if config.kafka is None:
            raise ValueError("a replay needs the kafka section")
        self.config = replay_config(config, options)
        self.ranges = list(ranges)
        self.options = options
        self._samples_each = samples_per_subscription
        self._source_factory = source_factory
        self._max_event = config.kafka.max_event_bytes
        self.source: RangeSource | None = None
        self._stop = False
        self.consumed = 0
        self.filtered = 0
        self.items: dict[str, dict[str, int]] = {}
        self.rejected: dict[str, int] = {}
        self.skipped: dict[str, int] = {}
        self.samples: list[dict[str, Any]] = []
        self._started = time.monotonic()

    @property
    def total(self) -> int:
        return sum(r.size for r in self.ranges)

    def progress(self) -> tuple[int, int]:
        return (0 if self.source is None else self.source.read), self.consumed

    def stop(self) -> None:
        self._stop = True

    async def run(self) -> ReplaySummary:
        self._started = time.monotonic()
        assert self.config.kafka is not None
        subscriptions = self.config.subscriptions
        router = compile_router(subscriptions, integrations=self.config.ortto.integrations)
        router = router.with_audience_ids(
            {n: _PLACEHOLDER.format(name=n) for n in router.audience_names}
        )
        source = self.source = RangeSource(
            self.config.kafka, _NoGroup(), self.ranges, rate_per_s=self.options.rate_per_s
        ) if self._source_factory is None else self._source_factory(_NoGroup())
        await source.start()
        try:
            while not self._stop and not source.done:
                for message in await source.poll():
                    if message.error() is None:
                        self._map(router.route, message.value())
        finally:
            await source.close()
        return self._summary(source)

    def _map(self, route: Any, value: bytes | None) -> None:
        self.consumed += 1
        try:
            if value is not None and len(value) > self._max_event:
                raise DecodeError("over kafka.max_event_bytes", reason="too_large")
            event = decode_json(value)
        except DecodeError as exc:
            self._count(self.rejected, f"decode/{exc.reason}")
            return
        try:
            outcomes = route(event)
        except Exception:  # the pipeline dead-letters these too
            self._count(self.rejected, "validate/mapping_failed")
            return
        if not outcomes:
            self.filtered += 1
        max_item = self.config.batching.max_bytes - 2
        for outcome in outcomes:
            kind = type(outcome)
            if kind is Accepted:
                try:
                    size = len(orjson.dumps(outcome.item))
                except TypeError:
                    self._count(self.rejected, "validate/serialise")
                    continue
                if size > max_item:
                    self._count(self.rejected, "validate/too_large")
                    continue
                route_ = outcome.route
                per_endpoint = self.items.setdefault("/v1" + route_.path, {})
                seen = per_endpoint.get(route_.name, 0)
                per_endpoint[route_.name] = seen + 1
                if seen < self._samples_each:
                    self.samples.append({"subscription": route_.name,
                                         "path": "/v1" + route_.path, "item": outcome.item})
            elif kind is Rejected:
                self._count(self.rejected, "validate/validation")
            else:
                self._count(self.skipped, outcome.reason)

    @staticmethod
    def _count(counts: dict[str, int], key: str) -> None:
        counts[key] = counts.get(key, 0) + 1

    def _summary(self, source: RangeSource) -> ReplaySummary:
        partitions = [
            {"topic": r.topic, "partition": r.partition, "from": r.start, "to": r.end,
             "next": r.end if source.positions[r.key] >= r.end else source.positions[r.key]}
            for r in self.ranges
        ]
        return ReplaySummary(
            status="done" if source.done else "interrupted",
            consumed=self.consumed, filtered=self.filtered,
            skipped=sum(self.skipped.values()),
            elapsed_s=time.monotonic() - self._started, rate_per_s=source.read_rate(),
            partitions=partitions,
            extra={"dry_run": True, "items": self.items, "rejected": self.rejected,
                   "skipped_by_reason": self.skipped, "samples": self.samples},
        )
