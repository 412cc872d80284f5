"""Each measurement of the whole-system benchmark, as a function of the :class:`Bench` context.

Every function returns the JSON-ready figures of its scenario. Ratios are taken within the run
(the ceiling is measured on the same topic, minutes apart at most): on a shared machine, rates
swing with the neighbours' load while CPU per event and same-run ratios hold.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from streamer.sandbox import SandboxProcess
from streamer.testing import KafkaCluster

from .events import Records, produce_steadily
from .pipeline import Run, Setting, run_streamer

__all__ = [
    "Bench", "against_ceilings", "budget", "ceiling", "end_to_end", "latency", "median_of_ceilings",
    "median_of_runs", "scale_out",
]

_CEILING = Path(__file__).resolve().with_name("ceiling.py")


@dataclass
class Bench:
    broker: KafkaCluster
    sandbox: SandboxProcess
    workdir: Path
    partitions: int
    seconds: float
    """How long the timed scenarios (budget, latency) last."""
    notes: list[str] = field(default_factory=list)


def ceiling(bench: Bench, topic: str, total: int, runs: int = 3) -> dict[str, Any]:
    """The bare consumer, ``runs`` times (each its own process and group): the medians."""
    done = []
    for _ in range(runs):
        answer = subprocess.run(
            [sys.executable, str(_CEILING), bench.broker.bootstrap_servers, topic, str(total)],
            capture_output=True, text=True, check=True, timeout=900,
        )
        done.append(json.loads(answer.stdout.strip().splitlines()[-1]))
    rates = [d["events"] / d["seconds"] for d in done]
    cpus = [d["cpu_s"] / d["events"] * 1e6 for d in done]
    return {"events": total, "events_per_s": statistics.median(rates),
            "cpu_us_per_event": statistics.median(cpus), "runs": done}


def against_ceilings(
    figures: dict[str, Any], before: dict[str, Any], after: dict[str, Any]
) -> dict[str, Any]:
    """``figures`` of a run with its ratios to the ceiling measured just before it and just
    after it (their mean): a drift of the machine across the run moves both sides alike."""
    rate = (before["events_per_s"] + after["events_per_s"]) / 2
    cpu = (before["cpu_us_per_event"] + after["cpu_us_per_event"]) / 2
    return {**figures, "rate_vs_ceiling": figures["events_per_s"] / rate,
            "cpu_vs_ceiling": figures["cpu_us_per_event"] / cpu,
            "ceiling_cpu_us_per_event": cpu}


def median_of_ceilings(measured: list[dict[str, Any]]) -> dict[str, Any]:
    """Ceilings measured one run at a time (one per round, beside the runs compared with it)
    as one: the medians, and every run."""
    runs = [run for one in measured for run in one["runs"]]
    rates = [d["events"] / d["seconds"] for d in runs]
    cpus = [d["cpu_s"] / d["events"] * 1e6 for d in runs]
    return {"events": measured[0]["events"], "events_per_s": statistics.median(rates),
            "cpu_us_per_event": statistics.median(cpus), "runs": runs}


def _metric_sum(text: str, name: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                total += sample.value
    return total


def _e2e_histogram_p(text: str, share: float) -> float | None:
    """The upper bound of the bucket holding ``share`` of ``streamer_delivery_latency_seconds``."""
    buckets: list[tuple[float, float]] = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "streamer_delivery_latency_seconds_bucket":
                buckets.append((float(sample.labels["le"]), sample.value))
    buckets.sort()
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = share * buckets[-1][1]
    return next(bound for bound, count in buckets if count >= rank)


def _run_figures(run: Run, ceiling: dict[str, Any] | None) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "events": run.events,
        "seconds": run.seconds,
        "events_per_s": run.rate,
        "rate_from_first_request": run.rate_from_first_request,
        "cpu_us_per_event": run.cpu_us,
        "sandbox_cpu_us_per_event": run.sandbox_cpu_s / run.events * 1e6 if run.events else 0,
        "broker_cpu_us_per_event": run.broker_cpu_s / run.events * 1e6 if run.events else 0,
        "machine_cores_busy": run.machine_cpu_s / run.seconds if run.seconds else 0,
        "streamer_cores_busy": run.cpu_s / run.seconds if run.seconds else 0,
        "sandbox_cores_busy": run.sandbox_cpu_s / run.seconds if run.seconds else 0,
        "peak_rss_mb": [peak / 2**20 for peak in run.peak_rss],
        "delivered_items": run.intake["items"],
        "requests": run.intake["requests"],
        "throttled": run.intake["throttled"],
        "dead_letters": _metric_sum(run.metrics, "streamer_dead_letters_total"),
        "retried_items": _metric_sum(run.metrics, "streamer_retried_items_total"),
    }
    ok_requests = run.intake["requests"] - run.intake["throttled"]
    figures["items_per_request"] = run.intake["items"] / ok_requests if ok_requests else 0
    if ceiling is not None:
        figures["rate_vs_ceiling"] = run.rate / ceiling["events_per_s"]
        figures["cpu_vs_ceiling"] = run.cpu_us / ceiling["cpu_us_per_event"]
    return figures


def end_to_end(
    bench: Bench, topic: str, ceiling_figures: dict[str, Any] | None, ordering: str | None
) -> dict[str, Any]:
    """streamer through the backlog of ``topic``, from the first answer to every commit; its
    ratios to ``ceiling_figures`` (None: none yet, see :func:`against_ceilings`)."""
    run = run_streamer(bench.broker, bench.sandbox, bench.workdir, topic,
                       Setting(ordering=ordering))
    figures = _run_figures(run, ceiling_figures)
    figures["ordering"] = ordering or "default (key not set)"
    return figures


_PER_RUN = ("events_per_s", "cpu_us_per_event", "rate_vs_ceiling", "cpu_vs_ceiling",
            "ceiling_cpu_us_per_event", "sandbox_cpu_us_per_event",
            "streamer_cores_busy", "items_per_request", "vs_budget", "throttled")
_WORST = frozenset({"throttled", "dead_letters", "retried_items"})


def median_of_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several runs of one scenario as one: the median of every number (each figure on its
    own), the highest peak RSS of each process, the most 429s, dead letters and retries of any
    run, a flag when any run set it, and each run's headline figures under ``runs``. Runs of
    the orderings are taken in turn (ABAB), so that a neighbour's burst lands on both rather
    than on one."""
    if len(runs) == 1:
        return runs[0]
    figures: dict[str, Any] = {}
    for key, first in runs[0].items():
        values = [run[key] for run in runs]
        if isinstance(first, bool):
            figures[key] = any(values)
        elif not isinstance(first, int | float | list):
            figures[key] = first
        elif key in _WORST:  # a 429 or a dead letter in any run is not medianed away
            figures[key] = max(values)
        elif isinstance(first, list):  # peak RSS per process
            figures[key] = [max(column) for column in zip(*values, strict=True)]
        else:
            figures[key] = statistics.median(values)
    figures["runs"] = [{k: run[k] for k in _PER_RUN if k in run} for run in runs]
    return figures


def budget(bench: Bench, topic: str, rps: float, backlog: int) -> dict[str, Any]:
    """The sandbox refuses above ``rps`` requests/s for the account (its ``throttle`` fault,
    every endpoint in one bucket); streamer runs with ``delivery.rate_per_s: rps``."""
    bench.sandbox.control.set_faults([{"kind": "throttle", "rps": rps}])
    try:
        run = run_streamer(bench.broker, bench.sandbox, bench.workdir, topic,
                           Setting(rate_per_s=rps), stop_after=bench.seconds)
    finally:
        bench.sandbox.control.clear_faults()
    # Whole seconds of the steady state: the first two hold the buckets' initial bursts (the
    # sandbox's and streamer's both allow rps requests at once), the last one is partial.
    seconds = run.intake["per_second"][2:-1]
    items = sum(s[2] for s in seconds)
    requests = sum(s[1] - s[3] for s in seconds)
    rate = items / len(seconds) if seconds else 0.0
    return {
        "rps": rps, "seconds": len(seconds), "items_per_s": rate,
        "vs_budget": rate / (rps * 500), "throttled": run.intake["throttled"],
        "items_per_request": items / requests if requests else 0,
        "cpu_us_per_item": run.cpu_us,
        # A backlog drained before the end leaves idle seconds in the window: not a budget.
        "backlog_drained": run.intake["items"] >= backlog,
    }


def latency(bench: Bench, topic: str, values: Records, rate: float) -> dict[str, Any]:
    """Produce ``rate`` events/s for ``bench.seconds`` to an empty topic that streamer follows;
    each item's latency runs from its Kafka timestamp to the sandbox's answer."""
    bench.broker.create_topic(topic, bench.partitions)
    count = int(rate * bench.seconds) + 1
    cycled = (values * (count // len(values) + 1))[:count]
    produced: list[int] = []

    def write() -> None:
        produced.append(produce_steadily(bench.broker, topic, cycled, rate, bench.seconds))

    run = run_streamer(bench.broker, bench.sandbox, bench.workdir, topic, while_ready=write)
    measured = run.intake["latency_ms"]
    return {
        "rate": rate, "produced": produced[0], "delivered_items": run.intake["items"],
        "p50_ms": measured["p50"], "p90_ms": measured["p90"], "p99_ms": measured["p99"],
        "max_ms": measured["max"],
        "streamer_histogram_p99_s_at_most": _e2e_histogram_p(run.metrics, 0.99),
        "cpu_us_per_event": run.cpu_us,
        # The producer (this process) shares the machine: what was left for streamer.
        "machine_cores_busy": run.machine_cpu_s / run.seconds if run.seconds else 0,
        "streamer_cores_busy": run.cpu_s / run.seconds if run.seconds else 0,
        "sandbox_cores_busy": run.sandbox_cpu_s / run.seconds if run.seconds else 0,
        "broker_cores_busy": run.broker_cpu_s / run.seconds if run.seconds else 0,
    }


def scale_out(
    bench: Bench, topic: str, single: dict[str, Any], ceiling_figures: dict[str, Any]
) -> dict[str, Any]:
    """Two processes in one group on the same backlog: the aggregate, and where the CPU went."""
    run = run_streamer(bench.broker, bench.sandbox, bench.workdir, topic, Setting(processes=2))
    figures = _run_figures(run, ceiling_figures)
    figures["per_process_cores_busy"] = [cpu / run.seconds for cpu in run.per_process_cpu_s]
    figures["vs_one_process"] = run.rate / single["events_per_s"]
    busy = figures["machine_cores_busy"]
    others = busy - figures["streamer_cores_busy"] - figures["sandbox_cores_busy"] - (
        run.broker_cpu_s / run.seconds)
    figures["other_cores_busy"] = max(0.0, others)
    figures["limit"] = (
        f"the machine's {_cores()} cores were {busy / _cores():.0%} busy: streamer "
        f"{figures['streamer_cores_busy']:.2f} cores ("
        + " + ".join(f"{c:.2f}" for c in figures["per_process_cores_busy"])
        + f"), sandbox {figures['sandbox_cores_busy']:.2f}, "
        f"broker {run.broker_cpu_s / run.seconds:.2f}, everything else {max(0.0, others):.2f}"
        + (" (CPU-bound: no core was idle for the second process)"
           if busy > 0.9 * _cores() else "")
    )
    return figures


def _cores() -> int:
    return os.cpu_count() or 1
