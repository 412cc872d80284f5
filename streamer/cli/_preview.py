"""``streamer preview --config FILE --events FILE``: what would be sent, without Kafka or network.

The events file holds one batch: JSON lines (one event per line; blank lines are ignored) or a
single JSON array. The configuration is the one ``streamer run`` reads; only ``ortto`` and
``subscriptions`` matter (no ``kafka`` section is needed). The output is one JSON document::

    {"requests": [{"method": "POST", "path": "/v1/track", "subscription": "...", "body": [...]}],
     "rejected": [{"index": 3, "subscription": "...", "action": "trackActivity",
                   "status": 400, "message": "..."}],
     "skipped": [{"index": 4, "subscription": "...", "action": "trackActivity", "reason": "..."}],
     "filtered": [{"index": 5, "reason": "no_subscription"},
                  {"index": 7, "reason": "integrations"}],
     "warnings": ["subscriptions.1 ('Orders'): trigger: ..."]}

Indexes count events from 0 in file order. A filtered event is not sent: it matched no
subscription (``no_subscription``), or its ``integrations`` object turns this destination off
(``integrations``; see ``ortto.integrations``). A subscription whose mapping says
``enable_batching: false`` has one request per event, as Segment sends them. ``warnings`` are
the router's start-up warnings (what Segment accepts but ignores or never matches).

Audience ids come from Ortto at run time; preview never calls Ortto, so an item's
``audience.id`` is a placeholder that names the audience and cannot be mistaken for a real id:
``<preview: id of audience 'VIP'>``.

Exit status: 0 when the preview was printed (rejected events included), 2 when the
configuration or the events file cannot be used (the problems go to stderr).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["configure", "main", "placeholder_audience_id"]

PREVIEW_AUDIENCE_ID = "<preview: id of audience {name!r}>"


def placeholder_audience_id(name: str) -> str:
    """The stand-in for the id Ortto would give audience ``name``."""
    return PREVIEW_AUDIENCE_ID.format(name=name)


def configure(parser: argparse.ArgumentParser) -> None:
    # Only argparse here: every subcommand's parser is built at each start of the CLI.
    parser.add_argument("--config", required=True, help="the YAML configuration file")
    parser.add_argument(
        "--events", required=True,
        help="Segment events, one batch: JSON lines or a JSON array ('-' reads stdin)",
    )
    parser.add_argument(
        "--compact", action="store_true", help="print the JSON on one line instead of indented"
    )


def main(args: argparse.Namespace) -> int:
    import orjson

    from .._exceptions import ConfigError
    from ..config import load_config
    from ..routing import compile_router, plan_batch

    try:
        config = load_config(args.config, require_kafka=False)
        subscriptions = config.subscriptions
        router = compile_router(subscriptions, integrations=config.ortto.integrations)
        router = router.with_audience_ids(
            {n: placeholder_audience_id(n) for n in router.audience_names}
        )
    except ConfigError as exc:
        print(f"streamer preview: {args.config}: invalid configuration:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    try:
        events = read_events(args.events)
    except EventsFileError as exc:
        print(f"streamer preview: {exc}", file=sys.stderr)
        return 2
    plan = plan_batch(router, events, max_items=config.batching.max_items)
    document = {
        "requests": [
            {"method": r.method, "path": r.path, "subscription": r.route.name, "body": r.body}
            for r in plan.requests
        ],
        "rejected": [
            {"index": r.index, "subscription": r.route.name, "action": r.route.action,
             "status": r.status, "message": r.message}
            for r in plan.rejected
        ],
        "skipped": [
            {"index": s.index, "subscription": s.route.name, "action": s.route.action,
             "reason": s.reason}
            for s in plan.skipped
        ],
        "filtered": [
            {"index": index, "reason": plan.filtered_reason(index)} for index in plan.filtered
        ],
        "warnings": list(router.warnings),
    }
    option = 0 if args.compact else orjson.OPT_INDENT_2
    sys.stdout.buffer.write(orjson.dumps(document, option=option) + b"\n")
    sys.stdout.flush()
    return 0


class EventsFileError(Exception):
    """The events file cannot be read or is not one batch of JSON objects."""


def read_events(source: str) -> list[dict[str, Any]]:
    """The events of ``source`` (a path, or ``-`` for stdin): JSON lines or a JSON array."""
    import orjson

    name = "<stdin>" if source == "-" else source
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise EventsFileError(f"cannot read events file {name}: {exc.strerror}") from None
    if data.lstrip()[:1] == b"[":
        try:
            events = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise EventsFileError(f"{name}: not a valid JSON array: {exc}") from None
        for index, event in enumerate(events):
            if type(event) is not dict:
                raise EventsFileError(
                    f"{name}: element {index} is not a JSON object (a Segment event)"
                )
        return list(events)
    events = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise EventsFileError(f"{name}, line {number}: not valid JSON: {exc}") from None
        if type(event) is not dict:
            raise EventsFileError(f"{name}, line {number}: not a JSON object (a Segment event)")
        events.append(event)
    return events
