"""``streamer redrive``: dead letters through the current configuration again.

Examples::

    streamer redrive --config streamer.yaml --stage deliver --reason retries_exhausted \\
        --since 2026-11-30T08:00Z
    streamer redrive --config streamer.yaml --subscription "Signups" --dry-run

Reads ``kafka.dead_letter_topic`` up to its end at the start, keeps the letters matching the
filters and sends each again through the subscription it names (a letter of stage ``decode``:
through every matching subscription), with its original key, headers and coordinates. A letter
that fails again is a new letter with ``streamer.redrives`` one higher. Letters an earlier run
redrove are never sent again; letters skipped for the filters stay available. Exit status as
``replay``: 0 done, 2 usage or configuration error (another redrive of the topic is running
included), 1 Kafka or Ortto failed or the redrive's lease was lost (``_redrive_lease.py``), 130
interrupted.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..app import Redrive, RedriveLease, ReplaySummary

__all__ = ["configure", "main"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="the YAML configuration file")
    parser.add_argument("--stage", action="append", default=[],
                        choices=["decode", "validate", "deliver"], help="only this stage")
    parser.add_argument("--reason", action="append", default=[], metavar="R",
                        help="only this reason, e.g. retries_exhausted (repeatable)")
    parser.add_argument("--subscription", action="append", default=[], metavar="NAME",
                        help="only letters of this subscription (repeatable)")
    parser.add_argument("--since", metavar="ISO", help="only letters written at or after it")
    parser.add_argument("--until", metavar="ISO", help="only letters written before it")
    parser.add_argument("--rate", type=float, metavar="N",
                        help="most dead-letter records read per second")
    parser.add_argument("--requests-per-s", type=float, metavar="N",
                        help="the redrive's own Ortto request budget (default: a quarter of "
                        "delivery.rate_per_s)")
    parser.add_argument("--max-redrives", type=int, default=3, metavar="N",
                        help="leave letters redriven N times already (default 3)")
    parser.add_argument("--dry-run", action="store_true",
                        help="map the letters and print what would be sent; send nothing")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )


def main(args: argparse.Namespace) -> int:
    import asyncio

    from .._exceptions import AuthenticationError, ConfigError, StreamerError, UsageError
    from ..app import (
        Redrive,
        RedriveFilters,
        RedriveLease,
        RedriveOptions,
        choose_subscriptions,
        plan_redrive,
    )
    from ..config import load_config
    from ..source import ClusterView
    from ._progress import report
    from ._replay import parse_time_ms, setup_logging

    setup_logging(args.log_level)
    try:
        filters = RedriveFilters(
            stages=tuple(args.stage), reasons=tuple(args.reason),
            subscriptions=tuple(args.subscription),
            since_ms=parse_time_ms(args.since, "--since"),
            until_ms=parse_time_ms(args.until, "--until"), max_redrives=args.max_redrives,
        )
        for flag, value in (("--rate", args.rate), ("--requests-per-s", args.requests_per_s)):
            if value is not None and value <= 0:
                raise ValueError(f"{flag} must be above 0")
        if args.max_redrives < 1:
            raise ValueError("--max-redrives must be 1 or more")
    except ValueError as exc:
        print(f"streamer redrive: {exc}", file=sys.stderr)
        return 2
    lease: RedriveLease | None = None
    try:
        config = load_config(args.config)
        assert config.kafka is not None
        choose_subscriptions(config, filters.subscriptions)  # unknown names: exit 2
        with ClusterView(config.kafka) as view:
            if not args.dry_run:  # one redrive of a dead-letter topic at a time
                lease = RedriveLease(config.kafka)
                lease.acquire(view)
            plan = plan_redrive(view, config, filters)
        options = RedriveOptions(rate_per_s=args.rate, requests_per_s=args.requests_per_s,
                                 dry_run=args.dry_run)
        summary = asyncio.run(_run_holding(lease, Redrive(config, plan, options)))
    except (ConfigError, UsageError) as exc:
        print(f"streamer redrive: {exc}", file=sys.stderr)
        return 2
    except AuthenticationError as exc:
        print(f"streamer redrive: {exc}; check ortto.api_key", file=sys.stderr)
        return 2
    except StreamerError as exc:
        print(f"streamer redrive: {exc}", file=sys.stderr)
        return 1
    finally:
        if lease is not None:
            lease.release()
    return report(summary.as_json(), as_json=args.json, title="redrive")


async def _run_holding(lease: RedriveLease | None, redrive: Redrive) -> ReplaySummary:
    """Run ``redrive``; if its lease is lost meanwhile (another redrive may start), it stops."""
    import asyncio
    import contextlib

    from ._replay import run_bounded

    loop = asyncio.get_running_loop()

    def lost(reason: str) -> None:  # on the lease's thread
        message = (f"the redrive lease was lost ({reason}); stopped, with what was in flight "
                   "settled and recorded: run the redrive again for the rest")
        with contextlib.suppress(RuntimeError):  # the loop closed: the run is over already
            loop.call_soon_threadsafe(redrive.fail, message)

    if lease is not None:
        lease.watch(lost)
    try:
        return await run_bounded(redrive, "redrive")  # type: ignore[no-any-return]
    finally:
        if lease is not None:
            lease.watch(None)
