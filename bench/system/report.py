"""The whole-system benchmark's output: a table (CPU per event and same-run ratios first, rates
second) and the JSON of every figure."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

__all__ = ["machine", "print_table", "write_json"]


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": model, "load_average_1m": load[0],
            "python": platform.python_version()}


def _fmt(value: Any, spec: str = ",.0f") -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "/".join(_fmt(v, spec) for v in value)
    return format(value, spec)


def _e2e_rows(name: str, run: dict[str, Any], ceiling: dict[str, Any]) -> list[list[str]]:
    return [[
        name,
        f"{_fmt(run['cpu_us_per_event'], '.1f')} us ({_fmt(run.get('cpu_vs_ceiling'), '.2f')}x)",
        f"{_fmt(run.get('rate_vs_ceiling'), '.0%')}",
        f"{_fmt(run['events_per_s'])} /s (ceiling {_fmt(ceiling['events_per_s'])})",
        f"{_fmt(run['sandbox_cpu_us_per_event'], '.1f')} us",
        f"{_fmt(run['peak_rss_mb'], '.0f')} MB",
    ]]


def print_table(results: dict[str, Any]) -> None:
    scenarios = results["scenarios"]
    head = ["scenario", "CPU/event (x ceiling)", "of ceiling rate", "rate", "sandbox CPU",
            "peak RSS"]
    rows: list[list[str]] = []
    ceiling = scenarios["ceiling"]
    rows.append(["ceiling (bare consumer + orjson.loads)",
                 f"{_fmt(ceiling['cpu_us_per_event'], '.1f')} us", "100%",
                 f"{_fmt(ceiling['events_per_s'])} /s", "-", "-"])
    for key, run in scenarios.items():
        if key.startswith("end_to_end"):
            rows += _e2e_rows(f"streamer e2e, ordering {run['ordering']}", run, ceiling)
    if "filter" in scenarios:
        rows += _e2e_rows("filter path (95% page/screen)", scenarios["filter"],
                          scenarios["filter_ceiling"])
    if "scale_out" in scenarios:
        rows += _e2e_rows("scale-out: 2 processes, 6 partitions", scenarios["scale_out"], ceiling)
    widths = [max(len(head[i]), *(len(r[i]) for r in rows)) for i in range(len(head))]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print()
    for line in _details(scenarios):
        print(line)


def _details(scenarios: dict[str, Any]) -> list[str]:
    lines = []
    segment = scenarios.get("segment_engine")
    if segment and segment.get("streamer_vs_segment") is not None:
        lines.append(
            f"Segment's engine (batches of 500, JSON decoding included): "
            f"{_fmt(segment['anchor_events_per_s'])} events/s, "
            f"{_fmt(segment['anchor_cpu_us_per_event'], '.1f')} us CPU/event; streamer e2e is "
            f"{segment['streamer_vs_segment']:.2f}x its rate "
            f"({_fmt(segment['streamer_vs_segment_without_decoding'], '.2f')}x the engine "
            f"without decoding)")
    elif "segment_engine" in scenarios:
        lines.append(f"Segment's engine: skipped ({segment.get('skipped', 'no result')})")
    budget = scenarios.get("budget")
    if budget:
        lines.append(f"Ortto budget {budget['rps']:g} req/s: {_fmt(budget['items_per_s'])} "
                     f"items/s = {budget['vs_budget']:.2f} of {budget['rps']:g} x 500, "
                     f"{budget['throttled']} 429s, {budget['items_per_request']:.0f} "
                     f"items/request over {budget['seconds']} s"
                     + (" (the backlog ran out: use more --events)"
                        if budget["backlog_drained"] else ""))
        if "runs" in budget:
            passes = ", ".join(f"{r['vs_budget']:.2f} ({r['throttled']} 429s)"
                               for r in budget["runs"])
            lines.append(f"  budget: medians of {len(budget['runs'])} passes: {passes}")
    latency = scenarios.get("latency")
    if latency:
        lines.append(f"latency at {_fmt(latency['rate'])} events/s (half the e2e rate): p50 "
                     f"{_fmt(latency['p50_ms'])} ms, p99 {_fmt(latency['p99_ms'])} ms, max "
                     f"{_fmt(latency['max_ms'])} ms, Kafka timestamp to the sandbox's answer "
                     f"(streamer's histogram: p99 <= "
                     f"{_fmt(latency['streamer_histogram_p99_s_at_most'], 'g')} s); cores busy: "
                     f"machine {latency['machine_cores_busy']:.2f} (streamer "
                     f"{latency['streamer_cores_busy']:.2f}, broker "
                     f"{latency['broker_cores_busy']:.2f}, sandbox "
                     f"{latency['sandbox_cores_busy']:.2f}, the rest the producer)")
    scale = scenarios.get("scale_out")
    if scale:
        lines.append(f"scale-out: {scale['vs_one_process']:.2f}x one process; {scale['limit']}")
    stages = scenarios.get("stages")
    if stages:
        lines.append(
            f"stages alone (CPU/event): orjson.loads {stages['orjson_loads_cpu_us']:.2f} us, "
            f"decode_json {stages['json_cpu_us']:.2f} us "
            f"({stages['json_bytes_per_event']:.0f} B), schemaless Avro "
            f"{stages['avro_schemaless_cpu_us']:.2f} us ({stages['avro_bytes_per_event']:.0f} B), "
            f"route + serialise {stages['route_and_serialise_cpu_us']:.2f} us")
    for key, run in scenarios.items():
        if key.startswith("end_to_end") or key in ("filter", "scale_out"):
            lines.append(
                f"{key}: {run['events']:,} events in {run['seconds']:.1f} s, delivered "
                f"{run['delivered_items']:,} items in {run['requests']:,} requests "
                f"({run['items_per_request']:.0f}/request), {run['throttled']} 429s, "
                f"{run['dead_letters']:.0f} dead letters; cores busy: streamer "
                f"{run['streamer_cores_busy']:.2f}, sandbox {run['sandbox_cores_busy']:.2f}, "
                f"machine {run['machine_cores_busy']:.2f}; broker "
                f"{run['broker_cpu_us_per_event']:.1f} us/event")
            if "runs" in run:
                each = run["runs"]
                cpus = " / ".join(f"{r['cpu_us_per_event']:.1f}" for r in each)
                rates = " / ".join(f"{r.get('rate_vs_ceiling', 0):.2f}" for r in each)
                lines.append(f"  {key}: medians of {len(each)} runs; CPU per event {cpus} us, "
                             f"rate {rates} of the ceiling")
    return lines


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")


def markdown(results: dict[str, Any]) -> str:
    """The README's performance table of one run (``bench_system.py --markdown PATH``)."""
    found = results["scenarios"]
    ceiling = found["ceiling"]
    rows = [("the ceiling: bare confluent-kafka consumer + `orjson.loads`",
             f"{ceiling['cpu_us_per_event']:.1f} µs", "1.00x", f"{ceiling['events_per_s']:,.0f}")]

    def e2e(name: str, run: dict[str, Any], against: dict[str, Any]) -> None:
        rows.append((
            f"{name} (sandbox {run['sandbox_cpu_us_per_event']:.1f} µs/event; peak RSS "
            f"{_fmt(run['peak_rss_mb'], '.0f')} MB)",
            f"{run['cpu_us_per_event']:.1f} µs ({run['cpu_vs_ceiling']:.2f}x)",
            f"{run['rate_vs_ceiling']:.2f}x",
            f"{run['events_per_s']:,.0f} (ceiling {against['events_per_s']:,.0f})",
        ))

    for key, run in found.items():
        if key.startswith("end_to_end"):
            e2e(f"streamer end to end, ordering {run['ordering']}", run, ceiling)
    if "filter" in found:
        e2e("filter path: 95% page/screen, 5% track", found["filter"], found["filter_ceiling"])
    if "scale_out" in found:
        e2e("scale-out: 2 processes in one group", found["scale_out"], ceiling)
    lines = ["| scenario | CPU per event (x ceiling) | rate (x ceiling) | events/s |",
             "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {line}" for line in _details(found)[:5])
