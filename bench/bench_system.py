"""The whole-system benchmark (``./dev bench``): streamer against the ceiling of any Python
consumer, on SDK-shaped events (about 1 KB each), with a real local broker and the sandbox.

One run, in this order (every ratio is taken within it):

1. the topics: N identify/track events (50/50) and N events of the filter mix (95% page/screen,
   which no preset matches, 5% track), keyed by user, on 6 partitions (generated once, cached
   in ``.bench/cache``);
2. the ceiling: a bare confluent-kafka consumer in a child process that ``orjson.loads`` every
   value (median of three runs): events/s and CPU per event;
3. streamer end to end (``streamer run`` in a child process, a generated configuration, the
   sandbox's lean intake as the sink): events/s from the first request to every offset
   committed, its ratio to the ceiling, CPU per delivered event, peak RSS, and the sandbox's
   CPU beside it (the sink must not be what is measured); ``--repeat`` runs (default 3) per
   ``--ordering`` value, the orderings in turn, each figure the median of its runs (one run
   swings by a tenth or more with the neighbours; each run's figures are kept in the JSON);
4. the filter path: the same against the ceiling on the filter topic (``--repeat`` runs);
5. the Ortto budget: the sandbox refuses above R requests/s (``throttle``), streamer runs
   with ``delivery.rate_per_s: R``: items/s against R x 500, 429s, items per request
   (``--repeat`` passes, medians, each pass kept);
6. latency at half the measured e2e rate: p50/p99 from Kafka timestamp to the sandbox's answer;
7. scale-out: two processes in one group on the same 6 partitions, and where the CPU went;
8. the stages alone (decoding JSON and Avro, mapping) and Segment's own engine when there.

    ./dev bench [--quick] [--events N] [--ordering per_contact|none|both] [--json PATH]
    ./dev bench --micro        the older micro benchmarks (bench/bench_*.py), one after another

A full run takes a few minutes here; ``--quick`` (100,000 events, shorter timed scenarios) about
two. Figures on a shared machine: CPU per event and same-run ratios hold, rates swing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))

from bench.system import micro, scenarios  # noqa: E402
from bench.system.events import produce, records  # noqa: E402
from bench.system.pipeline import API_KEY  # noqa: E402
from bench.system.report import machine, markdown, print_table, write_json  # noqa: E402
from streamer.sandbox import SandboxProcess  # noqa: E402
from streamer.testing import start_local_broker  # noqa: E402

PARTITIONS = 6


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, help="events per topic (default 1,000,000)")
    parser.add_argument("--quick", action="store_true",
                        help="100,000 events and 8 s timed scenarios: the same figures, sooner")
    parser.add_argument("--ordering", choices=("per_contact", "none", "both"),
                        help="set delivery.ordering (both: one e2e run with each); "
                             "default: the key is not set")
    parser.add_argument("--repeat", type=int,
                        help="runs of each end-to-end ordering (taken in turn), of the filter "
                        "path and of the budget, reported as medians (default 3; 1 with --quick)")
    parser.add_argument("--budget-rps", type=float, default=20.0,
                        help="the Ortto budget scenario's requests/s (default %(default)s)")
    parser.add_argument("--seconds", type=float, help="length of the timed scenarios")
    parser.add_argument("--skip", action="append", default=[],
                        choices=("filter", "budget", "latency", "scale_out", "stages", "segment"),
                        help="leave a scenario out (repeatable)")
    parser.add_argument("--markdown", type=Path,
                        help="also write the README's table of this run to this file")
    parser.add_argument("--json", type=Path, default=_ROOT / ".bench" / "system.json",
                        help="where to write the figures (default .bench/system.json)")
    args = parser.parse_args(argv)
    if args.events is None:
        args.events = 100_000 if args.quick else 1_000_000
    if args.seconds is None:
        args.seconds = 8.0 if args.quick else 20.0
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def _say(text: str) -> None:
    print(f"» {time.strftime('%H:%M:%S')} {text}", flush=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _arguments(argv)
    orderings: list[str | None] = (
        [None] if args.ordering is None
        else ["per_contact", "none"] if args.ordering == "both" else [args.ordering]
    )
    started = time.time()
    cache = _ROOT / ".bench" / "cache"
    results: dict[str, Any] = {
        "command": " ".join(["./dev bench", *(argv if argv is not None else sys.argv[1:])]),
        "machine_before": machine(), "events": args.events, "partitions": PARTITIONS,
        "scenarios": {},
    }
    found = results["scenarios"]
    _say(f"events: {args.events:,} per topic (cached in {cache})")
    main_values = records(cache, "identify_track", args.events)
    filter_values = [] if "filter" in args.skip else records(cache, "filter", args.events)
    broker = start_local_broker()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-system-") as scratch, SandboxProcess(
            api_keys=[API_KEY], ban=False, retain="keys", intake="lean"
        ) as sandbox:
            bench = scenarios.Bench(broker, sandbox, Path(scratch), PARTITIONS, args.seconds)
            _say("producing the topics")
            total = produce(broker, "sdk-events", main_values, PARTITIONS)
            broker.create_topic("sdk-events.dlq", 1)
            _say("ceiling (3 runs)")
            found["ceiling"] = ceiling = scenarios.ceiling(bench, "sdk-events", total)
            rounds: dict[str, list[dict[str, Any]]] = {}
            for round_ in range(1, args.repeat + 1):
                for ordering in orderings:
                    _say(f"streamer end to end (ordering: {ordering or 'key not set'}, run "
                         f"{round_} of {args.repeat})")
                    key = "end_to_end" if ordering is None else f"end_to_end_{ordering}"
                    rounds.setdefault(key, []).append(
                        scenarios.end_to_end(bench, "sdk-events", ceiling, ordering))
            for key, runs in rounds.items():
                found[key] = scenarios.median_of_runs(runs)
            first = found["end_to_end" if orderings[0] is None else f"end_to_end_{orderings[0]}"]
            if filter_values:
                filter_total = produce(broker, "sdk-filter", filter_values, PARTITIONS)
                broker.create_topic("sdk-filter.dlq", 1)
                _say("filter path: ceiling (3 runs) and streamer")
                found["filter_ceiling"] = scenarios.ceiling(bench, "sdk-filter", filter_total)
                found["filter"] = scenarios.median_of_runs([
                    scenarios.end_to_end(bench, "sdk-filter", found["filter_ceiling"],
                                         orderings[0])
                    for _ in range(args.repeat)])
            if "budget" not in args.skip:
                _say(f"Ortto budget: {args.budget_rps:g} requests/s for {args.seconds:g} s")
                found["budget"] = scenarios.median_of_runs([
                    scenarios.budget(bench, "sdk-events", args.budget_rps, total)
                    for _ in range(args.repeat)])
            if "latency" not in args.skip:
                rate = first["events_per_s"] / 2
                _say(f"latency at {rate:,.0f} events/s for {args.seconds:g} s")
                broker.create_topic("sdk-latency.dlq", 1)
                found["latency"] = scenarios.latency(bench, "sdk-latency", main_values, rate)
            if "scale_out" not in args.skip:
                _say("scale-out: two processes in one group")
                found["scale_out"] = scenarios.scale_out(bench, "sdk-events", first, ceiling)
        if "stages" not in args.skip:
            _say("stages alone: decoding and mapping")
            values = [value for _, value in main_values[:20_000]]
            found["stages"] = {**micro.decoding(values), **micro.mapping(values)}
        if "segment" not in args.skip:
            _say("Segment's engine")
            with tempfile.TemporaryDirectory(prefix="bench-segment-") as scratch:
                found["segment_engine"] = _segment(main_values, Path(scratch), first)
    finally:
        broker.stop()
    results["machine_after"] = machine()
    results["wall_seconds"] = time.time() - started
    print()
    print_table(results)
    write_json(results, args.json)
    if args.markdown is not None:
        args.markdown.write_text(markdown(results) + "\n")
    print(f"\nfigures written to {args.json} ({results['wall_seconds']:.0f} s in all)")
    return results


def _segment(values: list[tuple[bytes, bytes]], workdir: Path,
             e2e: dict[str, Any]) -> dict[str, Any]:
    """Segment's engine on the first 100,000 events; streamer's e2e rate and CPU against it.

    The anchor is the engine's figure with JSON decoding (``with_decode_*``), as streamer's
    end to end decodes every event; the figure without it is kept beside."""
    measured = micro.segment_engine([value for _, value in values[:100_000]], workdir)
    if measured is None:
        return {"skipped": "bench/segment_engine is not there, or node/npm is missing"}
    measured = {k: v for k, v in measured.items() if k != "passes"}
    rate = next((measured[k] for k in ("with_decode_events_per_s", "events_per_s")
                 if isinstance(measured.get(k), int | float)), None)
    cpu = measured.get("with_decode_cpu_us_per_event", measured.get("cpu_us_per_event"))
    engine_only = measured.get("events_per_s")
    return {
        **measured,
        "anchor_events_per_s": rate,
        "anchor_cpu_us_per_event": cpu,
        "streamer_vs_segment": e2e["events_per_s"] / rate if rate else None,
        "streamer_vs_segment_without_decoding": (
            e2e["events_per_s"] / engine_only if isinstance(engine_only, int | float) else None),
        "segment_cpu_vs_streamer": cpu / e2e["cpu_us_per_event"] if cpu else None,
    }


if __name__ == "__main__":
    main()
