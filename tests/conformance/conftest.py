"""Conformance tests: make the small helpers of this directory importable.

The suite runs with ``--import-mode=importlib``, which does not put test directories on
``sys.path``; test modules here import the vectors' JSON comparison with
``from _compare import assert_json_equal, json_equal``, so this directory is added once.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
