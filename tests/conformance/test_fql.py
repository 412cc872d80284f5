"""Segment's trigger language against the vectors of ``@segment/destination-subscriptions``.

Each case is an FQL trigger, an event and whether Segment matched it (or, when ``error`` is
given, the trigger must be rejected when compiled). ``fql-infix.json`` holds triggers written
with an infix operator (``traits.email contains "x"``, ``starts_with``, ``ends_with``, their
``not_`` forms, ``number_equals``, and an operator Segment does not know, which never matches).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from streamer.mapping import MappingError, compile_trigger

HERE = Path(__file__).parent
CASES: list[dict[str, Any]] = json.loads((HERE / "fql.json").read_text())["cases"]
INFIX: list[dict[str, Any]] = json.loads((HERE / "fql-infix.json").read_text())["cases"]


def test_the_vectors_are_all_there() -> None:
    assert len(CASES) == 600
    assert len(INFIX) == 300


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=f"fql-{i}") for i, c in enumerate(CASES)]
    + [pytest.param(c, id=f"fql-infix-{i}") for i, c in enumerate(INFIX)],
)
def test_trigger_matches_like_segment(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(MappingError):
            compile_trigger(case["fql"])
        return
    matches = compile_trigger(case["fql"])
    assert matches(case["event"]) is case["matches"], case["fql"]
