"""The router's screen against the full decode, on the filter path's events (~1 KB, SDK-shaped).

The events come from ``streamer.testing.sdk_events`` with the ``filter`` mix (95% page and
screen, which no preset matches; 5% track). Measured, in CPU time of this process, each run
taking every variant in turn (the neighbours' load hits them alike):

- ``full``: ``decode_json`` (orjson), what the dispatcher decodes without the screen;
- ``full+route``: that, then ``Router.route`` with the presets;
- ``screen``: ``Router.value_screen()`` (simdjson's check, msgspec's read of two members), as
  the dispatcher calls it on every value of a screened batch; the 5% it passes on are then
  decoded and routed (``screen+route``), as in the dispatcher;
- ``check`` and ``read``: its two parts alone.

Prints the median CPU µs per event of each and its ratio to ``full``; ``--json PATH`` writes them.

    python bench/bench_screen.py [--events 20000] [--runs 9] [--json out.json]
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
import simdjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streamer.routing import compile_router
from streamer.source import decode_json
from streamer.testing import sdk_events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    values = [orjson.dumps(e) for _key, e in sdk_events(args.events, mix="filter")]
    router = compile_router(None)
    route = router.route
    screen = router.value_screen()
    assert screen is not None, "the presets dispatch on type"
    check = simdjson.Parser().parse
    read = msgspec.json.Decoder(msgspec.defstruct(
        "Members", [("type", Any, None), ("integrations", Any, None)])).decode

    def screened(value: bytes) -> Any:
        answer = screen(value)
        return route(decode_json(value)) if answer is None else answer

    assert [screened(v) for v in values] == [route(decode_json(v)) for v in values]
    variants: dict[str, Callable[[bytes], Any]] = {
        "full": decode_json,
        "full+route": lambda v: route(decode_json(v)),
        "screen": screen,
        "screen+route": screened,
        "check": check,
        "read": read,
    }
    timings: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.runs):
        for name, call in variants.items():
            gc.collect()
            started = time.process_time()
            for value in values:
                call(value)
            timings[name].append((time.process_time() - started) / len(values) * 1e6)

    passed = sum(screen(v) is None for v in values)
    figures: dict[str, Any] = {
        "events": len(values), "bytes_per_event": sum(map(len, values)) / len(values),
        "runs": args.runs, "passed_on": passed,
    }
    print(f"{len(values):,} SDK-shaped events (filter mix), {figures['bytes_per_event']:,.0f} "
          f"bytes each, {passed:,} passed on by the screen; {args.runs} runs; CPU us per event "
          "(median):")
    base = statistics.median(timings["full"])
    for name, runs in timings.items():
        median = statistics.median(runs)
        figures[f"{name}_us"] = median
        print(f"{name:>13}: {median:6.2f} us  ({median / base:.2f} of full)")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
