"""``streamer check --config FILE``: everything ``run`` would refuse, without Kafka or network.

It reads the file exactly as ``run`` does (YAML 1.2, ``${VAR}`` expansion, ``STREAMER__``
overrides, the schema, the key's shape) and compiles every trigger and mapping. No broker is
contacted and no request is sent (so a refused key or a missing topic is not found here).

Exit status: 0 with a short summary (subscriptions, routes, topics, warnings), or 2 with every
problem on a line of its own, each naming its key.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["configure", "main"]


def configure(parser: argparse.ArgumentParser) -> None:
    # Only argparse here: every subcommand's parser is built at each start of the CLI.
    parser.add_argument("--config", required=True, help="the YAML configuration file")


def main(args: argparse.Namespace) -> int:
    from .._exceptions import ConfigError
    from ..config import load_config
    from ..routing import compile_router

    warnings: list[str] = []
    try:
        config = load_config(args.config, warnings=warnings)
        router = compile_router(config.subscriptions, integrations=config.ortto.integrations)
    except ConfigError as exc:
        print(f"streamer check: {args.config}: invalid configuration:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        for warning in warnings:
            print(f"  warning: {warning}", file=sys.stderr)
        return 2
    subscriptions = config.subscriptions
    described = "the presets" if subscriptions is None else str(len(subscriptions))
    topics = ", ".join(config.kafka.topics) if config.kafka is not None else "-"
    routes = ", ".join(f"{r.name} -> {r.action}" for r in router.routes) or "none"
    print(f"streamer check: {args.config}: OK")
    print(f"  subscriptions  {described}")
    print(f"  routes         {len(router.routes)}: {routes}")
    if router.audience_names:
        print(f"  audiences      {', '.join(router.audience_names)} (found or created at start)")
    print(f"  topics         {topics}")
    warnings.extend(router.warnings)
    if router.unbatched and config.delivery.rate_per_s is not None:
        warnings.append(f"subscriptions {', '.join(router.unbatched)} send one request per event "
                        "(enable_batching: false): each counts against delivery.rate_per_s")
    print(f"  warnings       {len(warnings)}")
    for warning in warnings:
        print(f"    {warning}")
    return 0
