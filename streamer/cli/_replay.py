"""``streamer replay``: a range of a topic through the pipeline again, next to the live one.

Examples::

    streamer replay --config streamer.yaml --topic events --from-timestamp 2026-11-30T08:00Z \\
        --subscription "Signups" --rate 500 --group replay-signups
    streamer replay --config streamer.yaml --topic events --from-offset 0=1200 \\
        --to-offset 0=1500 --dry-run

The range is read by assignment, never in the live group (``kafka.group_id``), whose offsets
do not move. The end is exclusive and defaults to each partition's end when the replay starts.
Exit status: 0 when the whole range is done, 2 for a usage or configuration error (nothing was
sent), 1 when Kafka or Ortto failed, 130 when interrupted (SIGINT/SIGTERM) after a clean stop:
what was done is committed in ``--group``, or printed as the offsets to resume from.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime
from typing import Any

__all__ = ["configure", "main", "parse_offsets", "parse_time_ms", "run_bounded",
           "setup_logging"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="the YAML configuration file")
    parser.add_argument("--topic", required=True, help="the topic to read")
    parser.add_argument("--partition", type=int, action="append", default=[], metavar="P",
                        help="read only this partition (repeatable; default: all)")
    start = parser.add_mutually_exclusive_group(required=True)
    start.add_argument("--from-offset", action="append", metavar="N|P=N",
                       help="first offset, for every partition (N) or one (P=N, repeatable)")
    start.add_argument("--from-timestamp", metavar="ISO",
                       help="first record at or after this time (ISO-8601; UTC if no zone)")
    start.add_argument("--from-beginning", action="store_true",
                       help="from each partition's first offset")
    end = parser.add_mutually_exclusive_group()
    end.add_argument("--to-offset", action="append", metavar="M|P=M",
                     help="end, exclusive (default: each partition's end at the start)")
    end.add_argument("--to-timestamp", metavar="ISO",
                     help="end: the first record at or after this time (not included)")
    parser.add_argument("--subscription", action="append", default=[], metavar="NAME",
                        help="send only through this subscription (repeatable)")
    parser.add_argument("--rate", type=float, metavar="EVENTS_PER_S",
                        help="most events read per second")
    parser.add_argument("--requests-per-s", type=float, metavar="N",
                        help="the replay's own Ortto request budget, on top of the live "
                        "group's (default: a quarter of delivery.rate_per_s)")
    parser.add_argument("--group", metavar="G",
                        help="record progress in group G and resume from it when run again")
    parser.add_argument("--dry-run", action="store_true",
                        help="map the range and print what would be sent; send nothing")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )


def parse_offsets(values: list[str] | None, flag: str) -> tuple[int | None, dict[int, int]]:
    """``N`` (every partition) and ``P=N`` (one partition) forms of an offset flag."""
    every: int | None = None
    each: dict[int, int] = {}
    for value in values or ():
        try:
            if "=" in value:
                partition, offset = value.split("=", 1)
                each[int(partition)] = int(offset)
            else:
                every = int(value)
        except ValueError:
            raise ValueError(f"{flag} {value!r}: expected N or P=N (whole numbers)") from None
    if (every is not None and every < 0) or any(p < 0 or o < 0 for p, o in each.items()):
        raise ValueError(f"{flag}: offsets and partitions are not negative")
    return every, each


def parse_time_ms(value: str | None, flag: str) -> int | None:
    """Milliseconds since the epoch of an ISO-8601 time (UTC when it names no zone)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{flag} {value!r}: not an ISO-8601 time "
                         "(e.g. 2026-11-30T08:00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def main(args: argparse.Namespace) -> int:
    import asyncio

    from .._exceptions import AuthenticationError, ConfigError, StreamerError, UsageError
    from ..app import (
        DryRun,
        RangeRequest,
        Replay,
        ReplayOptions,
        check_group,
        choose_subscriptions,
        resolve_ranges,
    )
    from ..config import load_config
    from ..source import ClusterView
    from ._progress import report

    setup_logging(args.log_level)
    try:
        from_offset, from_offsets = parse_offsets(args.from_offset, "--from-offset")
        to_offset, to_offsets = parse_offsets(args.to_offset, "--to-offset")
        request = RangeRequest(
            topic=args.topic, partitions=tuple(args.partition),
            from_offset=from_offset, from_offsets=from_offsets,
            from_timestamp_ms=parse_time_ms(args.from_timestamp, "--from-timestamp"),
            from_beginning=args.from_beginning, to_offset=to_offset, to_offsets=to_offsets,
            to_timestamp_ms=parse_time_ms(args.to_timestamp, "--to-timestamp"),
        )
        for flag, value in (("--rate", args.rate), ("--requests-per-s", args.requests_per_s)):
            if value is not None and value <= 0:
                raise ValueError(f"{flag} must be above 0")
    except ValueError as exc:
        print(f"streamer replay: {exc}", file=sys.stderr)
        return 2
    options = ReplayOptions(
        subscriptions=tuple(args.subscription), rate_per_s=args.rate,
        requests_per_s=args.requests_per_s, group=args.group,
    )
    try:
        config = load_config(args.config)
        assert config.kafka is not None
        choose_subscriptions(config, options.subscriptions)
        with ClusterView(config.kafka) as view:
            resume = None
            if args.group:
                check_group(config, view, args.group)
                resume = view.committed(args.group, args.topic)
            ranges = resolve_ranges(view, request, resume)
        runner: Replay | DryRun = (DryRun if args.dry_run else Replay)(config, ranges, options)
        summary = asyncio.run(run_bounded(runner, "replay"))
    except (ConfigError, UsageError) as exc:
        print(f"streamer replay: {exc}", file=sys.stderr)
        return 2
    except AuthenticationError as exc:
        print(f"streamer replay: {exc}; check ortto.api_key", file=sys.stderr)
        return 2
    except StreamerError as exc:
        print(f"streamer replay: {exc}", file=sys.stderr)
        return 1
    return report(summary.as_json(), as_json=args.json, title="replay")


async def run_bounded(runner: Any, label: str) -> Any:
    """Run with SIGINT/SIGTERM asking for a clean stop, and the progress shown meanwhile."""
    import asyncio
    import contextlib
    import signal

    from ._progress import follow_progress

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, runner.stop)
    progress = asyncio.create_task(follow_progress(label, runner.total, runner.progress))
    try:
        return await runner.run()
    finally:
        progress.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await progress
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def setup_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
