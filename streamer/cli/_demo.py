"""``streamer demo``: the whole path on one machine, then a summary.

A local Kafka broker (KRaft, jars fetched once by Maven), the Ortto sandbox on loopback with a
few faults switched on (so retries and dead-lettering show), sample Segment events plus poison
values produced to a 3-partition topic, and the real pipeline, run until every message is done
and committed. The summary says what was delivered, filtered, dead-lettered (by reason) and
committed, read back from the sandbox and from Kafka itself.
"""

from __future__ import annotations

import argparse

__all__ = ["configure", "main"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events", type=int, default=20_000, help="sample events to produce")
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=180.0,
                        help="seconds to wait for every message to be done")
    parser.add_argument("--no-faults", action="store_true",
                        help="a well-behaved sandbox (no retries, no deliver-stage rejects)")


def main(args: argparse.Namespace) -> int:
    import asyncio
    import logging
    import sys

    from .._exceptions import StreamerError
    from ._demo_run import run_demo

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # A broker started seconds ago answers "coordinator load in progress" at first: the
    # client's retries are not news in a demo (`streamer run` shows them).
    logging.getLogger("streamer.kafka").setLevel(logging.ERROR)
    try:
        ok = asyncio.run(run_demo(
            events=args.events, partitions=args.partitions, timeout_s=args.timeout,
            faults=not args.no_faults,
        ))
    except StreamerError as exc:
        print(f"streamer demo: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1
