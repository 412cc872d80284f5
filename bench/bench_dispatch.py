"""The hot path of one process, without Kafka and without HTTP: what one core can feed to Ortto.

Per message, as the pipeline runs it: decode (orjson), route (triggers, mappings, validation),
serialise, register with the offset tracker, window in the batcher; then, per closed batch, the
bookkeeping of Ortto's "all accepted" answer (settle tickets, counters, latency histograms),
and the commit computation. Messages are ``streamer.testing.FakeMessage`` over the same sample
events the tests use (``--shape sample``) or over ~1 KB events shaped as Segment's libraries
send them (``--shape sdk``, the default; ``streamer.testing.sdk_events``), 50/50
identify/track. Prints
each run's messages/s and the CPU time per message (of this process: on a shared machine, time
spent waiting for a core is not ours), and the median.

    python bench/bench_dispatch.py [--messages 100000] [--runs 7] [--shape sdk]
        [--ordering per_contact|none] [--in-flight 16] [--mix filter] [--screen off]

``--ordering``: with ``per_contact`` (the default, as ``delivery.ordering``'s) the items pass
the per-contact gate, and a closed batch is answered only once ``--in-flight`` later batches
have closed (requests in flight): a contact's next item is held until then, as in the pipeline.

``--screen off`` leaves out the router's screen (``routing/_screen.py``), which the pipeline
uses after a poll batch that was at least half filtered: on ``--mix filter`` the difference is
what the screen saves.

``--instructions`` also counts the CPU instructions per message of that path with valgrind's
callgrind (runs of two lengths, each less the same run that only prepares its messages): a
figure that does not depend on what else the machine is doing.
"""

from __future__ import annotations

import argparse
import collections
import gc
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streamer.app._dispatch import Dispatcher
from streamer.app._outcomes import Outcomes
from streamer.batching import Batch, Batcher, ContactOrder
from streamer.observability import Metrics
from streamer.offsets import OffsetTracker
from streamer.routing import compile_router
from streamer.source import decode_json
from streamer.testing import FakeMessage, sample_events

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streamer.testing import SDK_MIXES, sdk_events


class _NoDeadLetters:
    """The sample events are all valid: a reject here would be a bug in the benchmark."""

    pending = 0

    def write(self, message: Any, rejection: Any, ticket: Any) -> None:
        raise AssertionError(f"unexpected reject: {rejection}")


def _messages(
    count: int, shape: str, partitions: int = 4, run: int = 250, mix: str = "identify_track"
) -> list[FakeMessage]:
    """Runs of ``run`` messages per partition, round robin: the shape of consumed fetches."""
    events = ((e for _key, e in sdk_events(count, seed=3, mix=mix)) if shape == "sdk"
              else sample_events(count, seed=3, page_share=0.0))
    values = [orjson.dumps(e) for e in events]
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


def one_run(
    messages: list[FakeMessage], poll_batch: int = 1000, *, ordering: str = "per_contact",
    in_flight: int = 16, screen: bool = True,
) -> tuple[float, float]:
    router = compile_router(None)
    metrics = Metrics()
    tracker = OffsetTracker()
    batcher = Batcher(max_items=500, max_bytes=2_000_000, linger_s=0.2, clock=time.monotonic,
                      route_limit=router.max_items)
    order = ContactOrder(batcher.add) if ordering == "per_contact" else None
    dead: Any = _NoDeadLetters()
    dispatcher = Dispatcher(decode=decode_json, route=router.route, tracker=tracker,
                            batcher=batcher, dead_letter=dead, metrics=metrics,
                            clock=time.monotonic, order=order,
                            screen=router.value_screen() if screen else None)
    outcomes = Outcomes(dead_letter=dead, metrics=metrics, on_auth_changed=lambda ok: None,
                        order=order)
    sent: collections.deque[Batch] = collections.deque()

    def answer_oldest() -> None:
        batch = sent.popleft()
        batch.body()
        _answered(metrics, batch, outcomes)
        sent.extend(batcher.take_ready())  # items the answer released, now in full windows

    gc.collect()
    started, cpu_started = time.perf_counter(), time.process_time()
    for start in range(0, len(messages), poll_batch):
        dispatcher.process(messages[start:start + poll_batch])
        sent.extend(batcher.take_ready())
        while len(sent) > in_flight:
            answer_oldest()
        tracker.to_commit()
    while sent or not batcher.empty:
        sent.extend(batcher.drain())
        answer_oldest()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    assert tracker.pending == 0 and dispatcher.consumed == len(messages)
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--shape", choices=("sdk", "sample"), default="sdk")
    parser.add_argument("--mix", choices=sorted(SDK_MIXES), default="identify_track",
                        help="the SDK shape's mix of types (filter: 95%% page/screen)")
    parser.add_argument("--ordering", choices=("per_contact", "none"), default="per_contact")
    parser.add_argument("--in-flight", type=int, default=16,
                        help="batches closed before the oldest is answered (default 16)")
    parser.add_argument("--screen", choices=("on", "off"), default="on",
                        help="the router's screen of filtered values, as in the pipeline (on)")
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions per message with valgrind (callgrind)")
    parser.add_argument("--loop-once", type=int, metavar="N", help=argparse.SUPPRESS)
    parser.add_argument("--prepare-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loop_once is not None:
        messages = _messages(args.loop_once, args.shape, mix=args.mix)
        if not args.prepare_only:
            one_run(messages, ordering=args.ordering, in_flight=args.in_flight,
                    screen=args.screen == "on")
        return
    messages = _messages(args.messages, args.shape, mix=args.mix)
    size = sum(len(m.value() or b"") for m in messages) / len(messages)
    print(f"{len(messages):,} messages (mix {args.mix}, {size:,.0f} bytes of JSON each),"
          f" ordering {args.ordering}, {args.in_flight} batches in flight, screen {args.screen}")
    rates, cpus = [], []
    for run in range(1, args.runs + 1):
        elapsed, cpu = one_run(messages, ordering=args.ordering, in_flight=args.in_flight,
                               screen=args.screen == "on")
        rate = len(messages) / elapsed
        rates.append(rate)
        cpus.append(cpu / len(messages) * 1e6)
        print(f"run {run}: {rate:>9,.0f} msg/s  {cpus[-1]:.2f} us CPU/msg")
    print(f"median: {statistics.median(cpus):.2f} us CPU/msg, best {min(cpus):.2f}; "
          f"{statistics.median(rates):,.0f} msg/s "
          "(decode, route, map, validate, serialise, window, settle, commit maths)")
    if args.instructions:
        _print_instructions(args.shape, args.ordering, args.in_flight, args.mix, args.screen)


def _print_instructions(
    shape: str, ordering: str, in_flight: int, mix: str, screen: str
) -> None:
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("instructions per message: valgrind is not installed")
        return
    counts: dict[tuple[int, bool], int] = {}
    for count in (2_000, 12_000):
        for prepare_only in (False, True):
            command = [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null",
                       sys.executable, __file__, "--loop-once", str(count), "--shape", shape,
                       "--ordering", ordering, "--in-flight", str(in_flight), "--mix", mix,
                       "--screen", screen]
            if prepare_only:
                command.append("--prepare-only")
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            found = re.search(r"Collected : (\d+)", done.stderr)
            if found is None:
                print(f"instructions per message: no count in callgrind's output\n{done.stderr}")
                return
            counts[count, prepare_only] = int(found.group(1))
    path = [counts[n, False] - counts[n, True] for n in (2_000, 12_000)]
    print(f"dispatch path: {(path[1] - path[0]) / 10_000:,.0f} instructions per message "
          "(callgrind)")


if __name__ == "__main__":
    main()
