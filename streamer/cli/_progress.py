"""Progress of a bounded run (replay, redrive) and its summary, for people and for scripts.

On a terminal (standard error is a TTY) a ``rich`` progress bar shows offsets done of the total,
events per second and the time left; elsewhere (a pod's log, CI) a log line every 10 s says the
same. Standard output is left to the summary, so ``--json`` output stays one clean document.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["EXIT_STATUS", "follow_progress", "print_summary", "report"]

EXIT_STATUS = {"done": 0, "failed": 1, "interrupted": 130}
"""Exit status of a bounded run by its summary's status (2, a usage error, comes earlier)."""

log = logging.getLogger("streamer.replay")

LOG_INTERVAL_S = 10.0


async def follow_progress(
    label: str, total: int, sample: Callable[[], tuple[int, int]], *,
    interactive: bool | None = None, interval_s: float = LOG_INTERVAL_S,
) -> None:
    """Show ``sample() -> (done, events)`` until cancelled."""
    if interactive is None:
        interactive = sys.stderr.isatty()
    if interactive:
        await _bar(label, total, sample)
    else:
        await _lines(label, total, sample, interval_s)


async def _bar(label: str, total: int, sample: Callable[[], tuple[int, int]]) -> None:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    started = time.monotonic()
    columns = (
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:,.0f} events/s"), TimeElapsedColumn(),
        TextColumn("ETA"), TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(label, total=max(total, 1), rate=0.0)
        try:
            while True:
                done, events = sample()
                seconds = max(time.monotonic() - started, 1e-9)
                bar.update(task, completed=done, rate=events / seconds)
                await asyncio.sleep(0.25)
        finally:
            done, events = sample()
            bar.update(task, completed=done,
                       rate=events / max(time.monotonic() - started, 1e-9))


async def _lines(
    label: str, total: int, sample: Callable[[], tuple[int, int]], interval_s: float
) -> None:
    started = time.monotonic()
    while True:
        await asyncio.sleep(interval_s)
        done, events = sample()
        seconds = time.monotonic() - started
        rate = events / seconds if seconds > 0 else 0.0
        share = 100.0 * done / total if total else 100.0
        left = (total - done) / (done / seconds) if done and seconds > 0 else None
        log.info("%s: %d/%d offsets (%.1f%%), %d events, %.0f events/s, ETA %s",
                 label, done, total, share, events, rate,
                 "unknown" if left is None else f"{left:.0f}s")


def report(summary: dict[str, Any], *, as_json: bool, title: str) -> int:
    """Print the summary (and a failure's cause on standard error); the exit status."""
    if summary["status"] == "failed":
        print(f"streamer {title}: {summary.get('error', 'failed')}", file=sys.stderr)
    print_summary(summary, as_json=as_json, title=title)
    return EXIT_STATUS[summary["status"]]


def print_summary(summary: dict[str, Any], *, as_json: bool, title: str) -> None:
    """The summary on standard output: one JSON object, or lines for people."""
    if as_json:
        import orjson

        sys.stdout.buffer.write(orjson.dumps(summary) + b"\n")
        sys.stdout.flush()
        return
    out = sys.stdout.write
    out(f"{title} {summary['status']}: consumed {summary['consumed']}, "
        f"delivered {summary['delivered']}, filtered {summary['filtered']}, "
        f"skipped {summary['skipped']}, dead-lettered {summary['dead_lettered']}, "
        f"retried {summary['retried']}; {summary['elapsed_s']:.1f}s, "
        f"{summary['rate_per_s']:,.0f} events/s\n")
    for reason, count in sorted(summary.get("dead_lettered_by_reason", {}).items()):
        out(f"  dead-lettered {reason}: {count}\n")
    if summary.get("dry_run"):
        out("dry run: nothing was sent, no dead letter was written\n")
        for path, per_subscription in sorted(summary["items"].items()):
            for name, count in sorted(per_subscription.items()):
                out(f"  would send {count} item(s) to {path} through {name!r}\n")
        for reason, count in sorted(summary["rejected"].items()):
            out(f"  would dead-letter {count} ({reason})\n")
        for reason, count in sorted(summary["skipped_by_reason"].items()):
            out(f"  would skip {count} ({reason})\n")
        for sample in summary["samples"]:
            import orjson

            item = orjson.dumps(sample["item"]).decode()
            out(f"  sample {sample['path']} ({sample['subscription']}): {item[:300]}\n")
    if "letters" in summary:  # a redrive
        out(f"  {summary['letters']} letter(s) to send of {summary['records_read']} record(s) "
            f"read; {summary['resolved']} resolved by this run\n")
        for group, count in summary["groups"].items():
            out(f"  {count} letter(s) through {group}\n")
        for reason, count in sorted(summary["left"].items()):
            out(f"  left alone ({reason}): {count}\n")
    for p in summary["partitions"]:
        out(f"  {p['topic']}[{p['partition']}]: {p['from']} -> {p['to']}, next {p['next']}\n")
    if summary["status"] != "done" and summary["partitions"] and not summary.get("group"):
        resume = " ".join(f"--from-offset {p['partition']}={p['next']} "
                          f"--to-offset {p['partition']}={p['to']}"
                          for p in summary["partitions"] if p["next"] < p["to"])
        out(f"to resume: {resume}\n")
    sys.stdout.flush()
