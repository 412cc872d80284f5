"""Build hook: compile the hot path's scans to C with mypyc, or leave them as Python.

Everything about the package is in pyproject.toml; this file only adds the optional extension.
``streamer/actions/_scan.py`` (empty-key walk, IPv4 and date-time checks, run on every item) is
compiled with mypyc when the build has mypy and a C compiler; if either is missing, or the
compilation fails, the build goes on and the module stays plain Python with the same answers
(``streamer.actions._scan.COMPILED`` says which one runs). ``STREAMER_PURE_PYTHON=1`` skips the
compilation on purpose.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

COMPILED_MODULES = ["streamer/actions/_scan.py"]


def _say(message: str) -> None:
    print(f"streamer build: {message}", file=sys.stderr)


class OptionalBuildExt(build_ext):
    """``build_ext`` that gives up without failing the build: the Python source still works."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # any compiler trouble: fall back to Python
            _say(f"compiling the scans failed ({exc}); they stay plain Python")

    def build_extension(self, ext: Any) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            _say(f"compiling {ext.name} failed ({exc}); it stays plain Python")


def _extensions() -> list[Any]:
    if os.environ.get("STREAMER_PURE_PYTHON"):
        _say("STREAMER_PURE_PYTHON is set: the scans stay plain Python")
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        _say("mypyc is not available: the scans stay plain Python")
        return []
    try:
        return list(mypycify(COMPILED_MODULES, opt_level="3"))
    except Exception as exc:
        _say(f"mypyc could not translate the scans ({exc}); they stay plain Python")
        return []


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
