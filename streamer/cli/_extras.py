"""What an optional part of streamer needs and does not have, said before a command starts.

The Ortto sandbox (``streamer sandbox``, and ``streamer demo`` which runs it) is an aiohttp
server, installed with the ``sandbox`` extra; ``run`` and the operator's commands do without it.
"""

from __future__ import annotations

import importlib.util

__all__ = ["missing_sandbox"]


def missing_sandbox(command: str) -> str | None:
    """The message for ``command`` when the sandbox's dependency is not installed, else None."""
    if importlib.util.find_spec("aiohttp") is not None:
        return None
    return (f"streamer {command}: the Ortto sandbox is not installed; "
            "install the extra: pip install 'streamer[sandbox]'")
