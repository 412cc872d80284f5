"""``streamer status --config FILE [--json]``: the live group and the dead-letter topic.

Per partition: committed offset, end, lag in messages and in seconds, and the member holding it;
the group's members; unresolved dead letters of the last 24 hours by stage and reason (at most
100,000 records read, and said so when capped). Reads only: nothing joins the group or commits.
Exit status: 0, 2 for a configuration error, 1 when the cluster did not answer.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["configure", "main"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="the YAML configuration file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def main(args: argparse.Namespace) -> int:
    import orjson

    from .._exceptions import ConfigError, StreamerError, UsageError
    from ..app import group_status
    from ..config import load_config
    from ..source import ClusterView

    try:
        config = load_config(args.config)
        assert config.kafka is not None
        with ClusterView(config.kafka) as view:
            status = group_status(view, config.kafka)
    except (ConfigError, UsageError) as exc:
        print(f"streamer status: {exc}", file=sys.stderr)
        return 2
    except StreamerError as exc:
        print(f"streamer status: {exc}", file=sys.stderr)
        return 1
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(status) + b"\n")
    else:
        sys.stdout.write(_text(status))
    sys.stdout.flush()
    return 0


def _text(status: dict[str, Any]) -> str:
    lines = [f"group {status['group']}: {len(status['members'])} member(s), "
             f"lag {status['lag']} message(s)"]
    for m in status["members"]:
        held = ", ".join(f"{a['topic']}[{a['partition']}]" for a in m["assignment"]) or "nothing"
        lines.append(f"  member {m['client_id']}@{m['host']} ({m['member_id']}): {held}")
    lines.append(f"  {'partition':<32} {'committed':>12} {'end':>12} {'lag':>10} {'lag s':>10}")
    for p in status["partitions"]:
        committed = "-" if p["committed"] is None else str(p["committed"])
        seconds = "?" if p["lag_seconds"] is None else f"{p['lag_seconds']:.1f}"
        name = f"{p['topic']}[{p['partition']}]"
        lines.append(f"  {name:<32} {committed:>12} {p['end']:>12} {p['lag']:>10} {seconds:>10}")
    dead = status["dead_letters"]
    capped = f" (capped: the first {dead['cap']:,} records read)" if dead["capped"] else ""
    lines.append(f"dead letters in {dead['topic']} over the last 24 h: {dead['unresolved']} "
                 f"unresolved, {dead['resolved']} resolved{capped}")
    for stage, reasons in sorted(dead["by_stage"].items()):
        for reason, count in sorted(reasons.items()):
            lines.append(f"  {stage}/{reason}: {count}")
    return "\n".join(lines) + "\n"
