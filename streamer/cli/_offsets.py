"""``streamer offsets reset``: move the live group to a point; a plan unless ``--execute``.

::

    streamer offsets reset --config streamer.yaml --to-timestamp 2026-11-30T08:00Z
    streamer offsets reset --config streamer.yaml --topic events --to-offset 0=1500 --execute

Prints per partition ``from -> to``; changes nothing without ``--execute``, and refuses while
the group (``kafka.group_id``) has live members. Exit status: 0 (plan printed or applied), 2 for
a usage or configuration error or a refusal (nothing changed), 1 when the cluster failed.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["configure", "main"]


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    reset = actions.add_parser("reset", help="move the group's committed offsets",
                               description="move the group's committed offsets")
    reset.add_argument("--config", required=True, help="the YAML configuration file")
    target = reset.add_mutually_exclusive_group(required=True)
    target.add_argument("--to-earliest", action="store_true", help="each partition's first offset")
    target.add_argument("--to-latest", action="store_true", help="each partition's end")
    target.add_argument("--to-timestamp", metavar="ISO",
                        help="the first record at or after this time (UTC if no zone)")
    target.add_argument("--to-offset", action="append", metavar="P=N",
                        help="partition P to offset N (repeatable; only these move)")
    reset.add_argument("--topic", action="append", default=[], metavar="T",
                       help="only this topic (repeatable; default: kafka.topics)")
    reset.add_argument("--execute", action="store_true", help="apply the plan")
    reset.add_argument("--json", action="store_true", help="print the plan as JSON")


def main(args: argparse.Namespace) -> int:
    from .._exceptions import ConfigError, StreamerError, UsageError
    from ..app import ResetTarget, execute_reset, plan_reset
    from ..config import load_config
    from ..source import ClusterView
    from ._replay import parse_offsets, parse_time_ms

    try:
        every, offsets = parse_offsets(args.to_offset, "--to-offset")
        if every is not None:
            raise ValueError("--to-offset: give P=N for each partition to move")
        target = ResetTarget(earliest=args.to_earliest, latest=args.to_latest,
                             timestamp_ms=parse_time_ms(args.to_timestamp, "--to-timestamp"),
                             offsets=offsets)
    except ValueError as exc:
        print(f"streamer offsets reset: {exc}", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config)
        kafka = config.kafka
        assert kafka is not None
        with ClusterView(kafka) as view:
            plan = plan_reset(view, kafka, target, args.topic)
            _print(plan, kafka.group_id, args.json, args.execute)
            if args.execute:
                execute_reset(view, kafka, plan)
                print(f"group {kafka.group_id}: offsets reset", file=sys.stderr)
    except (ConfigError, UsageError) as exc:
        print(f"streamer offsets reset: {exc}", file=sys.stderr)
        return 2
    except StreamerError as exc:
        print(f"streamer offsets reset: {exc}", file=sys.stderr)
        return 1
    return 0


def _print(plan: list[dict[str, object]], group: str, as_json: bool, execute: bool) -> None:
    if as_json:
        import orjson

        document = {"group": group, "execute": execute, "plan": plan}
        sys.stdout.buffer.write(orjson.dumps(document) + b"\n")
    else:
        verb = "resetting" if execute else "plan (nothing changes without --execute)"
        sys.stdout.write(f"group {group}: {verb}\n")
        for step in plan:
            before = "-" if step["from"] is None else step["from"]
            sys.stdout.write(f"  {step['topic']}[{step['partition']}]: {before} -> {step['to']}\n")
    sys.stdout.flush()
