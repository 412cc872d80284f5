"""Segment's mapping language against the vectors answered by ``@segment/actions-core``.

Each case is a mapping, an event and the item Segment produced (or, with ``error``, Segment
refused the mapping when loading it or failed while evaluating it). The compiled mapper and
the reference interpreter must both give Segment's answer.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from _compare import assert_json_equal

from streamer.mapping import MappingError, compile_mapping
from streamer.mapping._interpret import interpret

CASES: list[dict[str, Any]] = json.loads((Path(__file__).parent / "transform.json").read_text())[
    "cases"
]
IDS = [f"transform-{i}" for i in range(len(CASES))]


def _compiled(mapping: dict[str, Any], event: Mapping[str, Any]) -> dict[str, Any]:
    return compile_mapping(mapping)(event)


ENGINES: dict[str, Callable[[dict[str, Any], Mapping[str, Any]], dict[str, Any]]] = {
    "compiled": _compiled,
    "interpreted": interpret,
}


def test_the_vectors_are_all_there() -> None:
    assert len(CASES) == 600
    assert sum("error" in case for case in CASES) == 33


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_mapping_gives_segments_item(case: dict[str, Any], engine: str) -> None:
    run = ENGINES[engine]
    event = copy.deepcopy(case["event"])
    if "error" in case:
        with pytest.raises(MappingError) as raised:
            run(case["mapping"], event)
        assert str(raised.value), "the error must say what is wrong"
        return
    output = run(case["mapping"], event)
    assert_json_equal(output, case["output"], json.dumps(case["mapping"]))
    assert json.loads(json.dumps(output)) == output, "the output must be plain JSON"
    assert event == case["event"], "the event must not be mutated"
