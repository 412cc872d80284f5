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
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

COMPILED_MODULES = ["streamer/actions/_scan.py"]


def _say(message: str) -> None:
    print(f"streamer build: {message}", file=sys.stderr)


def _fall_back(reason: str) -> None:
    # An editable install built earlier left compiled files beside the source, and Python
    # would keep importing them instead of the source: remove them.
    _say(f"{reason}; the scans stay plain Python")
    for module in COMPILED_MODULES:
        source = Path(module)
        for built in source.parent.glob(f"{source.stem}*.so"):
            built.unlink()
            _say(f"removed the earlier build {built}")


class OptionalBuildExt(build_ext):
    """``build_ext`` that gives up without failing the build: the Python source still works."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # any compiler trouble: fall back to Python
            _fall_back(f"compiling the scans failed ({exc!r})")

    def build_extension(self, ext: Any) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            _fall_back(f"compiling {ext.name} failed ({exc!r})")


def _extensions() -> list[Any]:
    if os.environ.get("STREAMER_PURE_PYTHON"):
        _fall_back("STREAMER_PURE_PYTHON is set")
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        _fall_back("mypyc is not available")
        return []
    try:
        # Only the listed module is analysed: its package's other imports (pydantic, ...) are
        # not installed in an isolated build environment.
        return list(mypycify(["--follow-imports=skip", *COMPILED_MODULES], opt_level="3"))
    except (Exception, SystemExit) as exc:  # mypyc exits on a type error
        _fall_back(f"mypyc could not translate the scans ({exc!r})")
        return []


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
