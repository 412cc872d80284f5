"""A replay: a range of a topic through the live pipeline's own machinery, then a summary.

The pipeline is the one ``run`` uses (the same Dispatcher, Batcher, Sender, dead-letter writer
and Checkpoint, built by :func:`build_pipeline`), given a :class:`RangeSource` instead of the
group consumer and a *finished* condition, so what is sent, retried and dead-lettered, and what
is committed when, is exactly what ``run`` does.

What differs is decided here, before the pipeline starts (:func:`replay_config`):

- only the chosen subscriptions are compiled (the others are disabled, keeping their positions,
  so routes and dead letters name them as ``run`` does);
- the Ortto budget is the replay's own, on top of the live group's: ``requests_per_s``
  (default a quarter of ``delivery.rate_per_s``; unlimited when that is unlimited);
- no metrics server (the live process on the same host owns the port);
- ``--group`` must be neither the live group nor a group with live members
  (:func:`check_group`).

Lifecycle of :meth:`Replay.run`: build (key checked, audiences resolved), read until every
partition's position reached its end and every piece of work settled (or :meth:`stop`), then a
clean stop: what is done is committed in the group (or, without one, returned as ``next`` per
partition), and the :class:`ReplaySummary`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import StreamerError, UsageError
from ..actions import presets
from ..config import Config, MetricsConfig, SubscriptionConfig
from ..observability import Metrics
from ..source import ClusterView, PartitionRange, RangeSource
from ._build import build_pipeline
from ._pipeline import Pipeline

__all__ = [
    "Replay",
    "ReplayOptions",
    "ReplaySummary",
    "check_group",
    "choose_subscriptions",
    "configured_subscriptions",
    "metric_totals",
    "replay_config",
]

REPLAY_SHARE_OF_RATE = 0.25
"""Default budget of a replay: this share of ``delivery.rate_per_s``."""


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    subscriptions: tuple[str, ...] = ()
    """Names of the subscriptions to send through; empty: all of them."""
    rate_per_s: float | None = None
    """Most events read per second; None: as fast as delivery allows."""
    requests_per_s: float | None = None
    """Ortto requests per second of the replay; None: a quarter of ``delivery.rate_per_s``."""
    group: str | None = None
    """Group recording the progress (resumed from when run again); None: none."""


@dataclass(slots=True)
class ReplaySummary:
    status: str
    """``done``, ``interrupted`` (a clean stop), or ``failed`` (Kafka or Ortto failed; the
    ``error`` says why; ``next`` offsets are those of the last checkpoint)."""
    consumed: int = 0
    delivered: int = 0
    filtered: int = 0
    skipped: int = 0
    dead_lettered: int = 0
    dead_lettered_by_reason: dict[str, int] = field(default_factory=dict)
    """``stage/reason`` -> records."""
    retried: int = 0
    elapsed_s: float = 0.0
    rate_per_s: float = 0.0
    """Events read per second while reading."""
    group: str | None = None
    partitions: list[dict[str, Any]] = field(default_factory=list)
    """Per partition ``topic``, ``partition``, ``from``, ``to`` and ``next`` (where to resume)."""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "status": self.status, "consumed": self.consumed, "delivered": self.delivered,
            "filtered": self.filtered, "skipped": self.skipped,
            "dead_lettered": self.dead_lettered,
            "dead_lettered_by_reason": self.dead_lettered_by_reason, "retried": self.retried,
            "elapsed_s": round(self.elapsed_s, 3), "rate_per_s": round(self.rate_per_s, 1),
            "group": self.group, "partitions": self.partitions,
        }
        document.update(self.extra)
        return document


def metric_totals(metrics: Metrics) -> tuple[dict[str, int], int, int]:
    """From a bounded run's own metrics: dead letters by ``stage/reason``, retried, skipped."""
    by_reason: dict[str, int] = {}
    for metric in metrics.rejected.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.value:
                # Summed over subscriptions (the counter's third label).
                key = f"{sample.labels['stage']}/{sample.labels['reason']}"
                by_reason[key] = by_reason.get(key, 0) + int(sample.value)
    retried = sum(int(s.value) for m in metrics.retried.collect() for s in m.samples
                  if s.name.endswith("_total"))
    skipped = sum(int(s.value) for m in metrics.skipped.collect() for s in m.samples
                  if s.name.endswith("_total"))
    return by_reason, retried, skipped


def configured_subscriptions(config: Config) -> list[SubscriptionConfig]:
    """The subscriptions a run compiles: the configured ones, or the presets when none is."""
    if config.subscriptions is not None:
        return list(config.subscriptions)
    return [SubscriptionConfig.model_validate(p.as_subscription()) for p in presets()]


def choose_subscriptions(
    config: Config, names: Sequence[str]
) -> list[SubscriptionConfig] | None:
    """The configured subscriptions with only ``names`` enabled (all when ``names`` is empty).

    Names are as routes and dead letters give them (``subscriptions.N`` for an unnamed one). A
    :class:`UsageError` lists the known names when one is unknown.
    """
    if not names:
        return config.subscriptions
    subscriptions = configured_subscriptions(config)
    labels = [s.name or f"subscriptions.{i}" for i, s in enumerate(subscriptions)]
    unknown = [n for n in names if n not in labels]
    if unknown:
        known = ", ".join(repr(label) for label in labels) or "none"
        raise UsageError(f"unknown subscription {', '.join(map(repr, unknown))} (known: {known})")
    return [
        s if label in names else s.model_copy(update={"enabled": False})
        for s, label in zip(subscriptions, labels, strict=True)
    ]


def replay_config(config: Config, options: ReplayOptions) -> Config:
    """The configuration a replay runs with (see the module's docstring)."""
    rate = options.requests_per_s
    if rate is None and config.delivery.rate_per_s is not None:
        rate = config.delivery.rate_per_s * REPLAY_SHARE_OF_RATE
    return config.model_copy(update={
        "subscriptions": choose_subscriptions(config, options.subscriptions),
        "metrics": MetricsConfig(port=None),
        "delivery": config.delivery.model_copy(update={"rate_per_s": rate}),
    })


def check_group(config: Config, view: ClusterView, group: str) -> None:
    """Refuse the live group and any group someone consumes with."""
    assert config.kafka is not None
    if group == config.kafka.group_id:
        raise UsageError(
            f"--group {group!r} is the live group (kafka.group_id): a replay must not move its "
            "offsets; name a group of its own"
        )
    view.refuse_if_in_use(group, "a replay recording progress in it")


class Replay:
    def __init__(
        self, config: Config, ranges: Sequence[PartitionRange], options: ReplayOptions
    ) -> None:
        if config.kafka is None:
            raise ValueError("a replay needs the kafka section")
        self.config = replay_config(config, options)
        self.ranges = list(ranges)
        self.options = options
        self.metrics = Metrics()
        self.pipeline: Pipeline | None = None
        self.source: RangeSource | None = None
        self._stop_asked = False
        self._started = time.monotonic()

    @property
    def total(self) -> int:
        return sum(r.size for r in self.ranges)

    def progress(self) -> tuple[int, int]:
        """``(offsets read, events consumed)`` so far."""
        if self.source is None or self.pipeline is None:
            return 0, 0
        return self.source.read, self.pipeline.dispatcher.consumed

    def stop(self) -> None:
        """A clean stop: nothing more is read; what is in flight gets the grace period."""
        self._stop_asked = True
        if self.pipeline is not None:
            self.pipeline.stop()

    async def run(self) -> ReplaySummary:
        self._started = time.monotonic()
        assert self.config.kafka is not None
        kafka = self.config.kafka

        def make_source(pipeline: Pipeline) -> RangeSource:
            self.source = RangeSource(
                kafka, pipeline, self.ranges, group_id=self.options.group,
                rate_per_s=self.options.rate_per_s,
                max_pending_bytes=self.config.delivery.max_pending_bytes,
            )
            return self.source

        pipeline = await build_pipeline(
            self.config, metrics=self.metrics, source_factory=make_source,
            finished=lambda: self.source is not None and self.source.done,
        )
        self.pipeline = pipeline
        if self._stop_asked:
            pipeline.stop()
        try:
            await pipeline.run()
        except StreamerError as exc:
            # What the last checkpoint recorded is still true: say where to resume from.
            summary = self.summary()
            summary.status = "failed"
            summary.extra["error"] = str(exc)
            return summary
        return self.summary()

    def summary(self) -> ReplaySummary:
        pipeline, source = self.pipeline, self.source
        assert pipeline is not None and source is not None
        stats = pipeline.stats()
        finished = source.done and stats.pending_messages == 0
        by_reason, retried, skipped = metric_totals(self.metrics)
        partitions = []
        for r in self.ranges:
            reached = source.positions.get(r.key, r.start) >= r.end
            done_up_to = stats.committed.get(r.key, r.start)
            # A partition read to its end with nothing pending is done up to the end, even if
            # its last offsets were transaction markers that no message stands for.
            nxt = r.end if finished or (reached and done_up_to >= r.end) else done_up_to
            partitions.append({"topic": r.topic, "partition": r.partition,
                               "from": r.start, "to": r.end, "next": max(nxt, r.start)})
        return ReplaySummary(
            status="done" if finished else "interrupted",
            consumed=stats.consumed, delivered=stats.delivered, filtered=stats.filtered,
            skipped=skipped, dead_lettered=stats.dead_lettered,
            dead_lettered_by_reason=by_reason, retried=retried,
            elapsed_s=time.monotonic() - self._started, rate_per_s=source.read_rate(),
            group=self.options.group, partitions=partitions,
        )
