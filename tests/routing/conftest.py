"""Routing tests: make this directory's helpers importable (``from _routing_events import ...``).

The suite runs with ``--import-mode=importlib``, which does not put test directories on
``sys.path``; the generated events shared by ``test_fused.py`` and ``test_native_steps.py`` live
in ``_routing_events.py``, so this directory is added once.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
