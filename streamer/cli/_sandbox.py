"""``streamer sandbox``: serve the Ortto-compatible sandbox until SIGTERM/SIGINT.

The first line on stdout is the contract base URL (``http://127.0.0.1:PORT/v1``), flushed at
once, so a parent process started with ``--port 0`` learns the port it got; nothing else is
written to stdout. Diagnostics go to stderr. Exit status: 0 after a signal, 2 when the options
or the fault file are invalid, 1 when the port cannot be bound.

Only argparse is imported at module level: the ``streamer`` command builds every subcommand's
parser at start-up, and must not pay for aiohttp there.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..sandbox import SandboxServer

__all__ = ["configure", "main"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument(
        "--port", type=int, default=0, help="port to bind; 0 picks a free one (default)"
    )
    parser.add_argument(
        "--api-key",
        dest="api_keys",
        action="append",
        metavar="KEY",
        help="accept this key (repeatable); default: any key of the valid shape (pau-...)",
    )
    parser.add_argument(
        "--faults", metavar="FILE", help="fault plan, JSON or YAML ({seed, rules: [...]})"
    )
    parser.add_argument(
        "--ban",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="ban a caller 15 s after 15 bad requests within 15 s, as Ortto does (default: on)",
    )
    parser.add_argument(
        "--retain",
        choices=("items", "keys"),
        default="items",
        help="keep item bodies for read-back, or only de-duplication keys (benchmarks)",
    )
    parser.add_argument(
        "--intake",
        choices=("full", "lean"),
        default="full",
        help="full: validate and store every item; lean (benchmarks): count the items, answer "
        "all-accepted, record latencies (GET /_sandbox/intake); faults still apply",
    )
    parser.add_argument(
        "--max-items", type=int, default=500, help="most items a request may carry (else 413)"
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=2 * 1024 * 1024,
        help="largest request body (else 413; default %(default)s)",
    )
    parser.add_argument(
        "--partial-status",
        type=int,
        choices=(200, 207),
        default=200,
        help="HTTP status of an answer listing item errors (default %(default)s)",
    )
    parser.add_argument(
        "--log-size", type=int, default=1000, help="requests kept in the request log"
    )


def main(args: argparse.Namespace) -> int:
    import asyncio

    from pydantic import ValidationError

    from ..sandbox import SandboxServer, SandboxState, load_fault_plan

    try:
        faults = load_fault_plan(args.faults) if args.faults else None
    except (OSError, ValueError, ValidationError) as exc:
        print(f"streamer sandbox: cannot use the fault file {args.faults}: {exc}", file=sys.stderr)
        return 2
    state = SandboxState(
        api_keys=args.api_keys,
        ban=args.ban,
        faults=faults,
        retain=args.retain,
        max_items=args.max_items,
        max_body_bytes=args.max_body_bytes,
        partial_status=args.partial_status,
        log_size=args.log_size,
        intake=args.intake,
    )
    server = SandboxServer(state, host=args.host, port=args.port)
    try:
        asyncio.run(_serve(server))
    except OSError as exc:
        print(f"streamer sandbox: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


async def _serve(server: SandboxServer) -> None:
    import asyncio
    import gc
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await server.start()
    # Everything imported so far lives as long as the process: moved out of the collector's
    # sight, it is not traversed again by every full collection while the sandbox serves.
    gc.freeze()
    try:
        print(server.url, flush=True)
        state = server.state
        keys = (
            "any key of the valid shape"
            if state.keys.accepted is None
            else (f"{len(state.keys.accepted)} configured key(s)")
        )
        rules = len(state.faults.plan.rules)
        print(
            f"streamer sandbox: serving {server.url} (control: {server.root_url}/_sandbox/); "
            f"accepting {keys}; ban {'on' if state.ban_enabled else 'off'}; "
            f"{rules} fault rule(s); retain {state.store.retain}; "
            f"intake {'full' if state.lean is None else 'lean'}",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()
    finally:
        await server.stop()
