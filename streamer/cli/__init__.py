"""The ``streamer`` command: ``run``, ``check``, ``preview``, ``sandbox``, ``demo`` and the
operator's ``replay``, ``redrive``, ``status``, ``offsets`` (one module each), and ``--version``.

Exit statuses: 0 done (``run``: a clean stop), 1 a failure while running, 2 a configuration
(or start-up) problem that a person must fix, or a usage error; 130 (``replay``, ``redrive``)
interrupted, after a clean stop.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .._version import __version__

__all__ = ["main"]

# subcommand -> module holding ``configure(parser)`` and ``main(args) -> int``
_COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("streamer.cli._run", "consume, map, batch and deliver until SIGTERM/SIGINT"),
    "check": ("streamer.cli._check", "validate a configuration without Kafka or network"),
    "preview": ("streamer.cli._preview", "print what would be sent for a file of events"),
    "sandbox": ("streamer.cli._sandbox", "serve the Ortto-compatible sandbox on loopback"),
    "demo": ("streamer.cli._demo", "local broker + sandbox + sample events, end to end"),
    "replay": ("streamer.cli._replay", "send a range of a topic again, next to the live group"),
    "redrive": ("streamer.cli._redrive", "send dead letters again through the current mappings"),
    "status": ("streamer.cli._status", "the live group's offsets, lag and members; dead letters"),
    "offsets": ("streamer.cli._offsets", "move the live group's offsets (a plan unless --execute)"),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="streamer",
        description="Deliver Segment events from Kafka to Ortto, as Segment's Ortto (Actions) "
        "destination would; nothing lost, rejects dead-lettered with the reason.",
    )
    parser.add_argument("--version", action="version", version=f"streamer {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in _COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(_module=module_name)
        # Command modules import their heavy dependencies inside main(), so building the parser
        # stays cheap and `streamer preview` never loads a Kafka client.
        importlib.import_module(module_name).configure(sub)
    args = parser.parse_args(argv)
    module = importlib.import_module(args._module)
    result: int = module.main(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
