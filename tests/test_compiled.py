"""The modules ``setup.py`` compiles with mypyc: one flavour for all of them, never a stale build.

A compiled module sits beside its source and Python imports it first, so an edit of the source
that was not rebuilt would run the old code without a word (``./dev`` rebuilds when a listed
source is newer than the install). Every test of those modules runs on whichever flavour the
build made; these checks make sure that flavour is the current source.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _compiled_modules() -> list[str]:
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "COMPILED_MODULES" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, list)
            return [str(v) for v in value]
    raise AssertionError("setup.py defines no COMPILED_MODULES")


MODULES = _compiled_modules()


def _module_name(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def test_the_list_names_existing_sources() -> None:
    assert "streamer/actions/_scan.py" in MODULES
    for path in MODULES:
        assert (ROOT / path).is_file(), path


def test_every_listed_module_has_the_same_flavour() -> None:
    from streamer.actions import _scan

    flavours = {
        path: not str(importlib.import_module(_module_name(path)).__file__).endswith(".py")
        for path in MODULES
    }
    assert set(flavours.values()) == {_scan.COMPILED}, (
        f"a partial build: {flavours}; rebuild with `pip install -e .` (./dev does it)")


def test_no_compiled_module_is_older_than_its_source() -> None:
    for path in MODULES:
        module = importlib.import_module(_module_name(path))
        built = Path(str(module.__file__))
        if built.suffix == ".py":
            continue
        source = ROOT / path
        if built.parent != source.parent:
            continue  # an installed (non-editable) build: its source went with it
        assert built.stat().st_mtime >= source.stat().st_mtime, (
            f"{built.name} is older than {path}: the old code runs; rebuild with "
            "`pip install -e .` (./dev does it)")
