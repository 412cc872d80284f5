"""``streamer run --config FILE``: consume and deliver until SIGTERM or SIGINT.

Exit statuses: 0 after a clean stop on SIGTERM or SIGINT (at any point, start-up included),
2 for a configuration the process cannot run with (invalid file, refused key), 1 for any other
error that stops it (Ortto unreachable for ``ortto.startup_timeout_s``, the dead-letter topic
unwritable, a fatal Kafka error).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

__all__ = ["configure", "main"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="the YAML configuration file")
    parser.add_argument(
        "--log-level", default=None, choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="overrides logging.level of the configuration",
    )


def main(args: argparse.Namespace) -> int:
    # Until the event loop's handlers take over (run_until_signalled), SIGTERM is what Ctrl-C
    # is: an interrupt that ends the process cleanly, here, instead of the default kill.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return _main(args)
    except KeyboardInterrupt:
        # A signal before the loop's handlers were installed: nothing had started.
        logging.getLogger("streamer.app").info("stopped before start-up")
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _main(args: argparse.Namespace) -> int:
    import asyncio

    from .._exceptions import AuthenticationError, ConfigError, StreamerError
    from ..app import run_until_signalled
    from ..config import load_config
    from ..observability import configure_logging

    try:
        config = load_config(args.config)
        configure_logging(config.logging.format, args.log_level or config.logging.level)
        # One line per HTTP request drowns what matters; the metrics count requests instead.
        logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
        asyncio.run(run_until_signalled(config))
    except ConfigError as exc:
        print(f"streamer: {exc}", file=sys.stderr)
        return 2
    except AuthenticationError as exc:
        print(f"streamer: {exc}; check ortto.api_key", file=sys.stderr)
        return 2
    except StreamerError as exc:
        print(f"streamer: {exc}", file=sys.stderr)
        return 1
    return 0
