"""Build hook: compile the hot path's plain modules to C with mypyc, or leave them as Python.

Everything about the package is in pyproject.toml; this file only adds the optional extensions.
:data:`COMPILED_MODULES` (the per-item scans, the per-message bookkeeping: offset tickets,
windows, the per-contact gate, the dispatcher's loop over consumed messages, and the presets'
generated steps, rendered for mypyc by ``streamer/routing/_native.py``) are compiled
with mypyc when the build has mypy and a C compiler; if either is missing, or the compilation
fails, the build goes on and the modules stay plain Python with the same answers
(``streamer.actions._scan.COMPILED`` says which one runs; the tests check that every listed
module has the same flavour and that no build is older than its source).
``STREAMER_PURE_PYTHON=1`` skips the compilation on purpose.

Measured (``/tmp``-free: ``bench/bench_dispatch.py --instructions``): compiling the three
bookkeeping modules takes 8% of the CPU instructions per message of the dispatch path; the
dispatcher, which then calls them natively, 1.6-2% more; the presets' steps and router 12% more.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

COMPILED_MODULES = [
    # Each: typed, no decorators or dynamic attributes, no monkeypatching by the tests (a
    # compiled class's methods cannot be replaced on an instance), pure bookkeeping.
    "streamer/actions/_scan.py",
    "streamer/offsets/_tracker.py",
    "streamer/batching/_batcher.py",
    "streamer/batching/_ordering.py",
    "streamer/app/_dispatch.py",
    # Generated: the presets' steps (see streamer/routing/_native.py; ./dev regen).
    "streamer/routing/_native_steps.py",
]


def _say(message: str) -> None:
    print(f"streamer build: {message}", file=sys.stderr)


def _fall_back(reason: str) -> None:
    # An editable install built earlier left compiled files beside the source, and Python
    # would keep importing them instead of the source: remove them.
    _say(f"{reason}; the hot path stays plain Python")
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
            _fall_back(f"compiling the hot path failed ({exc!r})")

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
        # Only the listed modules are analysed: their packages' other imports (pydantic, ...)
        # are not installed in an isolated build environment, and are typed Any; so are the
        # third-party packages they import (orjson): missing there, and an error to mypy
        # otherwise. No cache: one left by `mypy` in the tree knows those packages, and a
        # build that passes with it fails without it (a fresh clone, a wheel, the image).
        return list(mypycify(
            ["--follow-imports=skip", "--ignore-missing-imports", "--cache-dir=/dev/null",
             *COMPILED_MODULES], opt_level="3"))
    except (Exception, SystemExit) as exc:  # mypyc exits on a type error
        _fall_back(f"mypyc could not translate the hot path ({exc!r})")
        return []


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
