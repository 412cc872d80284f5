"""The public API is curated: each package's ``__all__`` lists exactly its public names."""

from __future__ import annotations

import importlib
import types

import pytest

import streamer

PACKAGES = [
    "streamer", "streamer.config", "streamer.source", "streamer.mapping", "streamer.actions",
    "streamer.routing", "streamer.batching", "streamer.sender", "streamer.offsets",
    "streamer.deadletter", "streamer.observability", "streamer.sandbox", "streamer.testing",
    "streamer.app",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_complete_and_exact(name: str) -> None:
    module = importlib.import_module(name)
    exported = set(module.__all__)
    assert len(exported) == len(module.__all__), "duplicates in __all__"
    missing = {n for n in exported if not hasattr(module, n)}
    assert not missing, f"{name}.__all__ names what is not there: {missing}"
    public = {
        n for n, v in vars(module).items()
        if not n.startswith("_") and not isinstance(v, types.ModuleType)
        and n not in {"annotations"}
    }
    assert public <= exported | {"__version__"}, f"public but not exported: {public - exported}"


def test_one_exception_hierarchy() -> None:
    errors = [getattr(streamer, n) for n in streamer.__all__
              if isinstance(getattr(streamer, n), type)
              and issubclass(getattr(streamer, n), BaseException)]
    assert len(errors) >= 10
    assert all(issubclass(e, streamer.StreamerError) for e in errors)
    assert issubclass(streamer.MappingError, ValueError)
