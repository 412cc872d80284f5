"""Segment's trigger language against the vectors of ``@segment/destination-subscriptions``.

Each case is an FQL trigger, an event and whether Segment matched it (or, when ``error`` is
given, the trigger must be rejected when compiled).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from streamer.mapping import MappingError, compile_trigger

CASES: list[dict[str, Any]] = json.loads((Path(__file__).parent / "fql.json").read_text())["cases"]


def test_the_vectors_are_all_there() -> None:
    assert len(CASES) == 600


@pytest.mark.parametrize("case", CASES, ids=[f"fql-{i}" for i in range(len(CASES))])
def test_trigger_matches_like_segment(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(MappingError):
            compile_trigger(case["fql"])
        return
    matches = compile_trigger(case["fql"])
    assert matches(case["event"]) is case["matches"], case["fql"]
