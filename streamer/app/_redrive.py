"""A redrive: dead letters through the current configuration again, through the pipeline.

The letters to send (:func:`plan_redrive`) are grouped by the subscription that maps them. Each
group runs as one bounded pipeline, built as a replay's is (:func:`replay_config`: only that
subscription enabled, or all of them for letters of stage ``decode``; the replay's own Ortto
budget; no metrics server), with a :class:`LetterSource` over the dead-letter topic and a
:class:`RedriveWriter`. So a letter is mapped, batched, sent, retried and dead-lettered exactly
as ``run`` does, and what was delivered through the other subscriptions the first time is not
sent again.

Progress is recorded by resolution records (see :mod:`streamer.deadletter._resolution`), written
once each letter is settled, never by committing a group: a letter a run skipped for its
filters stays available to the next. A letter that fails again is a new letter with
``streamer.redrives`` one higher, written after the end read at the start, so this run does not
read it again. A clean stop (:meth:`Redrive.stop`) resolves what was settled; the rest is sent
again by the next run (duplicates bounded by what was in flight).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ..config import Config
from ..observability import Metrics
from ._build import build_pipeline
from ._pipeline import Pipeline
from ._redrive_io import LetterSource, RedriveWriter
from ._redrive_plan import RedrivePlan
from ._replay import ReplayOptions, ReplaySummary, metric_totals, replay_config
from ._replay_dry import DryRun

__all__ = ["EVERY_SUBSCRIPTION", "Redrive", "RedriveOptions"]

EVERY_SUBSCRIPTION = "(every subscription)"
"""How a summary names the group of decode-stage letters."""


@dataclass(frozen=True, slots=True)
class RedriveOptions:
    rate_per_s: float | None = None
    """Most dead-letter records read per second."""
    requests_per_s: float | None = None
    dry_run: bool = False


class Redrive:
    def __init__(self, config: Config, plan: RedrivePlan, options: RedriveOptions) -> None:
        if config.kafka is None:
            raise ValueError("a redrive needs the kafka section")
        self.config = config
        self.plan = plan
        self.options = options
        self.metrics = Metrics()
        self._stop = False
        self._failure: str | None = None
        self._current: Pipeline | DryRun | None = None
        self._source: LetterSource | None = None
        self._done_before = 0
        self._consumed_before = 0
        self._resolved = 0
        self._stats = {"consumed": 0, "delivered": 0, "filtered": 0, "dead_lettered": 0}
        self._dry: dict[str, Any] = {"items": {}, "rejected": {}, "skipped_by_reason": {},
                                     "samples": []}
        self._finished_groups = 0

    @property
    def total(self) -> int:
        return self.plan.letters

    def progress(self) -> tuple[int, int]:
        """``(letters read, letters mapped)`` so far."""
        current = self._current
        if isinstance(current, DryRun):
            return self._done_before + current.consumed, self._consumed_before + current.consumed
        if isinstance(current, Pipeline):
            consumed = current.dispatcher.consumed
            return self._done_before + consumed, self._consumed_before + consumed
        return self._done_before, self._consumed_before

    def stop(self) -> None:
        self._stop = True
        if self._current is not None:
            self._current.stop()

    def fail(self, reason: str) -> None:
        """Stop as :meth:`stop` does (what is in flight settles and is recorded), and end
        ``failed`` with ``reason``: the run must not go on (its lease was lost)."""
        if self._failure is None:
            self._failure = reason
        self.stop()

    async def run(self) -> ReplaySummary:
        started = time.monotonic()
        for group, letters in self.plan.groups.items():
            if self._stop:
                break
            names = (group,) if group else ()
            settings = ReplayOptions(subscriptions=names, rate_per_s=self.options.rate_per_s,
                                     requests_per_s=self.options.requests_per_s)
            if self.options.dry_run:
                await self._dry_group(settings, letters)
            else:
                await self._group(settings, letters)
            self._done_before += len(letters)
        seconds = time.monotonic() - started
        by_reason, retried, skipped = metric_totals(self.metrics)
        done = self._finished_groups == len(self.plan.groups)
        extra: dict[str, Any] = {
            "letters": self.plan.letters, "records_read": self.plan.read,
            "left": self.plan.left, "resolved": self._resolved,
            "groups": {g or EVERY_SUBSCRIPTION: len(v) for g, v in self.plan.groups.items()},
        }
        if self.options.dry_run:
            extra.update(dry_run=True, **self._dry)
            skipped = sum(self._dry["skipped_by_reason"].values())
        status = "done" if done else "interrupted"
        if self._failure is not None:
            status = "failed"
            extra["error"] = self._failure
        return ReplaySummary(
            status=status, consumed=self._stats["consumed"],
            delivered=self._stats["delivered"], filtered=self._stats["filtered"],
            skipped=skipped, dead_lettered=self._stats["dead_lettered"],
            dead_lettered_by_reason=by_reason, retried=retried, elapsed_s=seconds,
            rate_per_s=self._stats["consumed"] / seconds if seconds > 0 else 0.0,
            extra=extra,
        )

    async def _group(self, settings: ReplayOptions, letters: list[Any]) -> None:
        config = replay_config(self.config, settings)
        kafka = config.kafka
        assert kafka is not None
        sources: list[LetterSource] = []

        def make_source(pipeline: Pipeline) -> LetterSource:
            sources.append(LetterSource(kafka, pipeline, letters, rate_per_s=settings.rate_per_s))
            return sources[0]

        writer = RedriveWriter(kafka.bootstrap_servers, kafka.dead_letter_topic,
                               extra=dict(kafka.producer))
        pipeline = await build_pipeline(
            config, metrics=self.metrics, source_factory=make_source,
            finished=lambda: sources[0].done, dead_letter=writer,
        )
        self._current = pipeline
        if self._stop:
            pipeline.stop()
        try:
            await pipeline.run()
        finally:
            self._current = None
        stats = pipeline.stats()
        self._consumed_before += stats.consumed
        for name in self._stats:
            self._stats[name] += getattr(stats, name)
        self._resolved += sources[0].resolved
        if sources[0].done and stats.pending_messages == 0:
            self._finished_groups += 1

    async def _dry_group(self, settings: ReplayOptions, letters: list[Any]) -> None:
        assert self.config.kafka is not None
        kafka = self.config.kafka
        dry = DryRun(self.config, [], settings, source_factory=lambda handler: LetterSource(
            kafka, handler, letters, rate_per_s=settings.rate_per_s))
        self._current = dry
        try:
            summary = await dry.run()
        finally:
            self._current = None
        self._consumed_before += summary.consumed
        self._stats["consumed"] += summary.consumed
        self._stats["filtered"] += summary.filtered
        for name in ("items", "rejected", "skipped_by_reason"):
            _merge(self._dry[name], summary.extra[name])
        self._dry["samples"].extend(summary.extra["samples"])
        if summary.status == "done":
            self._finished_groups += 1


def _merge(into: dict[str, Any], more: dict[str, Any]) -> None:
    for key, value in more.items():
        if isinstance(value, dict):
            _merge(into.setdefault(key, {}), value)
        else:
            into[key] = into.get(key, 0) + value
