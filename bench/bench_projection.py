"""Full against projected JSON decoding on ~1 KB SDK-shaped events, alone and with routing.

The events come from ``streamer.testing.sdk_events`` (what Segment's libraries send: the whole
``context``, timestamps, ``integrations``, UUIDs; 50/50 identify/track). Measured, in CPU time
of this process, each run taking every variant in turn (the neighbours' load hits them alike):

- ``full``: ``decode_json`` (orjson), the pipeline's decoder;
- ``projected``: ``streamer.source._projection`` for the presets' read set, with its checks;
- ``msgspec_alone``: the same msgspec projection without the checks (not exact: what the checks
  cost, the ceiling of a projection);
- ``msgspec_utf8``: that projection with the UTF-8 check only (not exact for numbers out of a
  double's range in unread fields, nor for integers beyond 64 bits in read ones);
- ``full+route`` and ``projected+route``: decode then ``Router.route`` with the presets.

Prints the median CPU µs per event of each and its ratio to ``full``; ``--json PATH`` writes them.

    python bench/bench_projection.py [--events 20000] [--runs 9] [--json out.json]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from projection.decoder import _typed, projected_decoder
from projection.reads import event_reads

from streamer.routing import compile_router
from streamer.source import decode_json
from streamer.testing import sdk_events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    values = [orjson.dumps(e) for _key, e in sdk_events(args.events)]
    reads = event_reads(None)
    assert reads is not None
    projected = projected_decoder(reads)
    alone = msgspec.json.Decoder(_typed(reads, "Event")).decode
    route = compile_router(None).route

    def utf8_checked(value: bytes) -> Any:
        if not value.isascii():
            value.decode()
        return alone(value)

    assert [route(decode_json(v)) for v in values[:500]] == [
        route(projected(v)) for v in values[:500]
    ], "the projection routes differently"

    variants: dict[str, Callable[[bytes], Any]] = {
        "full": decode_json,
        "projected": projected,
        "msgspec_alone": alone,
        "msgspec_utf8": utf8_checked,
        "full+route": lambda v: route(decode_json(v)),
        "projected+route": lambda v: route(projected(v)),
    }
    timings: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.runs):
        for name, call in variants.items():
            gc.collect()
            started = time.process_time()
            for value in values:
                call(value)
            timings[name].append((time.process_time() - started) / len(values) * 1e6)

    figures: dict[str, Any] = {
        "events": len(values), "bytes_per_event": sum(map(len, values)) / len(values),
        "runs": args.runs,
    }
    print(f"{len(values):,} SDK-shaped events, {figures['bytes_per_event']:,.0f} bytes each, "
          f"{args.runs} runs; CPU us per event (median):")
    for name, runs in timings.items():
        median = statistics.median(runs)
        base = statistics.median(timings["full+route" if "route" in name else "full"])
        figures[f"{name}_us"] = median
        against = "full+route" if "route" in name else "full"
        print(f"{name:>16}: {median:6.2f} us  ({median / base:.2f} of {against})")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
