"""The hot path of one process, without Kafka and without HTTP: what one core can feed to Ortto.

Per message, as the pipeline runs it: decode (orjson), route (triggers, mappings, validation),
serialise, register with the offset tracker, window in the batcher; then, per closed batch, the
bookkeeping of Ortto's "all accepted" answer (settle tickets, counters, latency histograms),
and the commit computation. Messages are ``streamer.testing.FakeMessage`` over the same sample
events the tests use (50/50 identify/track). Prints each run's messages/s and µs/message, and
the median.

    python bench/bench_dispatch.py [--messages 100000] [--runs 7]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streamer.app._dispatch import Dispatcher
from streamer.app._outcomes import Outcomes
from streamer.batching import Batcher
from streamer.observability import Metrics
from streamer.offsets import OffsetTracker
from streamer.routing import compile_router
from streamer.source import decode_json
from streamer.testing import FakeMessage, sample_events


class _NoDeadLetters:
    """The sample events are all valid: a reject here would be a bug in the benchmark."""

    pending = 0

    def write(self, message: Any, rejection: Any, ticket: Any) -> None:
        raise AssertionError(f"unexpected reject: {rejection}")


def _messages(count: int, partitions: int = 4, run: int = 250) -> list[FakeMessage]:
    """Runs of ``run`` messages per partition, round robin: the shape of consumed fetches."""
    values = [orjson.dumps(e) for e in sample_events(count, seed=3, page_share=0.0)]
    offsets = [0] * partitions
    messages = []
    for i, value in enumerate(values):
        partition = (i // run) % partitions
        messages.append(FakeMessage("events", partition, offsets[partition], value))
        offsets[partition] += 1
    return messages


def _answered(metrics: Metrics, batch: Any, outcomes: Outcomes) -> None:
    """Ortto's "all accepted": the sink's bookkeeping and the request's own series."""
    outcomes.delivered(batch, None, 0.05)
    series = metrics.request(batch.route.path, "2xx")
    series.total.inc()
    series.duration.observe(0.05)
    series.items.observe(len(batch))


def one_run(messages: list[FakeMessage], poll_batch: int = 1000) -> float:
    router = compile_router(None)
    metrics = Metrics()
    tracker = OffsetTracker()
    batcher = Batcher(max_items=500, max_bytes=2_000_000, linger_s=0.2, clock=time.monotonic,
                      route_limit=router.max_items)
    dead: Any = _NoDeadLetters()
    dispatcher = Dispatcher(decode=decode_json, route=router.route, tracker=tracker,
                            batcher=batcher, dead_letter=dead, metrics=metrics,
                            clock=time.monotonic)
    outcomes = Outcomes(dead_letter=dead, metrics=metrics, on_auth_changed=lambda ok: None)
    gc.collect()
    started = time.perf_counter()
    for start in range(0, len(messages), poll_batch):
        dispatcher.process(messages[start:start + poll_batch])
        for batch in batcher.take_ready():
            batch.body()
            _answered(metrics, batch, outcomes)
        tracker.to_commit()
    for batch in batcher.drain():
        batch.body()
        _answered(metrics, batch, outcomes)
    elapsed = time.perf_counter() - started
    assert tracker.pending == 0 and dispatcher.consumed == len(messages)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    messages = _messages(args.messages)
    size = sum(len(m.value() or b"") for m in messages) / len(messages)
    print(f"{len(messages):,} messages (50% identify, 50% track, {size:,.0f} bytes of JSON each)")
    rates = []
    for run in range(1, args.runs + 1):
        elapsed = one_run(messages)
        rate = len(messages) / elapsed
        rates.append(rate)
        print(f"run {run}: {rate:>9,.0f} msg/s  {elapsed / len(messages) * 1e6:.2f} us/msg")
    median = statistics.median(rates)
    print(f"median: {median:,.0f} msg/s, {1e6 / median:.2f} us/msg "
          "(decode, route, map, validate, serialise, window, settle, commit maths)")


if __name__ == "__main__":
    main()
