"""``python -m streamer.sandbox``: the ``streamer sandbox`` command on its own.

Same options and behaviour (it is the same ``configure``/``main``), but it does not build the
other subcommands' parsers, so it starts faster and does not depend on their imports.
:class:`~streamer.sandbox.SandboxProcess` uses it.
"""

import argparse
import sys

from streamer.cli._sandbox import configure, main

parser = argparse.ArgumentParser(prog="python -m streamer.sandbox", description=__doc__)
configure(parser)
sys.exit(main(parser.parse_args()))
