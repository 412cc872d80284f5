"""What Segment refuses when a mapping is loaded, with the JSON path of each problem."""

from __future__ import annotations

from typing import Any

import pytest

from streamer.mapping import MappingError, compile_mapping


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (
            {"a": {"@case": {"operator": "lower", "value": {"x": 1}}}},
            "/a/@case/value should be a string or a mapping directive but it is an object",
        ),
        (
            {"a": {"@replace": {"pattern": "x", "value": True}}},
            "/a/@replace/value should be a string or a mapping directive but it is a boolean",
        ),
        ({"a": {"@replace": {"value": "v"}}}, '/a/@replace should have field "pattern"'),
        (
            {"a": {"@replace": {"pattern": "", "value": "v"}}},
            "/a/@replace/pattern should be a string of length 1 or greater",
        ),
        (
            {"a": {"@replace": {"pattern": "x", "value": "v", "global": "yes"}}},
            "/a/@replace/global should be a boolean but it is a string",
        ),
        (
            {"a": {"@merge": {"direction": "left", "objects": ["x"]}}},
            "/a/@merge/objects/0 should be an object or a mapping directive but it is a string",
        ),
        (
            {"a": {"@merge": {"direction": "up", "objects": []}}},
            "/a/@merge/direction should be one of left, right",
        ),
        (
            {"a": {"@json": {"mode": "pack", "value": 1}}},
            "/a/@json/mode should be one of encode, decode",
        ),
        ({"a": {"@json": {"value": 1}}}, '/a/@json should have field "mode"'),
        (
            {"a": {"@path": 5}},
            "/a/@path should be a string or a mapping directive but it is a number",
        ),
        (
            {"a": {"@liquid": {"@path": "$.x"}}},
            "/a/@liquid should be a string but it is a directive",
        ),
        ({"a": {"@nope": 1}}, "/a has an invalid directive: @nope"),
        (
            {"a": {"@path": "$.x", "@template": "y"}},
            "/a should only have one @-prefixed key but it has 2",
        ),
        (
            {"a": {"@path": "$.x", "b": 1}},
            "/a should only have one @-prefixed key but it has 2 keys",
        ),
        ({"a": {"@if": "yes"}}, "/a/@if should be an object but it is a string"),
        ({"a": {"@if": {"exists": {"@path": 1}}}}, "/a/@if/exists/@path should be a string"),
        (
            {"a": {"deep": {"deeper": {"@case": {"operator": 1}}}}},
            "/a/deep/deeper/@case/operator should be a string but it is a number",
        ),
        (
            {"a": {"@arrayPath": []}},
            "/a/@arrayPath should be a string or a mapping directive but it is an undefined",
        ),
        (
            {"a": {"@transform": {"apply": 1, "mapping": {}}}},
            "/a/@transform/apply should be an object or a mapping directive but it is a number",
        ),
    ],
)
def test_load_time_errors_name_the_path(mapping: dict[str, Any], message: str) -> None:
    with pytest.raises(MappingError) as raised:
        compile_mapping(mapping)
    assert message in str(raised.value)


def test_every_problem_is_reported() -> None:
    with pytest.raises(MappingError) as raised:
        compile_mapping({"a": {"@path": 1}, "b": {"@template": 2}})
    assert "/a/@path" in str(raised.value)
    assert "/b/@template" in str(raised.value)


@pytest.mark.parametrize(
    "mapping",
    [
        # Segment does not look inside arrays, @literal values or @excludeWhenNull values
        {"a": [{"@nope": 1}]},
        {"a": {"@literal": {"b": {"@nope": 1}}}},
        {"a": {"@excludeWhenNull": {"b": {"@nope": 1}}}},
        # run-time checks only
        {"a": {"@if": {"then": 1}}},
        {"a": {"@json": {"mode": "encode", "value": ""}}},
        {"a": {"@merge": {"objects": []}}},
        {"a": {"@case": {"value": "x"}}},
        {"a": {"@flatten": {"value": 1}}},
        {"a": {"@liquid": "{% for x in y %}{% endfor %}"}},
        {"a": {"@json": {"mode": "ENCODE", "value": 1}}},
        {"a": {"@path": "$.x", "_metadata": {"label": "x"}}},
    ],
)
def test_what_segment_accepts_when_loading(mapping: dict[str, Any]) -> None:
    compile_mapping(mapping)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"a": {"@if": {"then": 1}}}, '@if requires an "exists" key or a "blank" key'),
        ({"a": {"@json": {"mode": "encode", "value": ""}}}, '@json requires a "value" key'),
        ({"a": {"@merge": {"objects": []}}}, '@merge requires a "direction" key'),
        ({"a": {"@case": {"value": "x"}}}, '@case requires a "operator" key'),
        ({"a": {"@flatten": {"value": 1}}}, '@flatten requires a "separator" key'),
        ({"a": [{"@nope": 1}]}, "@nope is not a valid directive"),
        ({"a": {"@literal": {"b": {"@path": 1}}}}, "@path: expected string, got number"),
    ],
)
def test_run_time_errors(mapping: dict[str, Any], message: str) -> None:
    mapper = compile_mapping(mapping)
    with pytest.raises(MappingError, match=message.replace("(", r"\(")):
        mapper({"type": "track"})


def test_metadata_is_ignored() -> None:
    mapper = compile_mapping({"a": {"@path": "$.x", "_metadata": {"label": "x"}}})
    assert mapper({"x": 1}) == {"a": 1}


@pytest.mark.parametrize("mapping", [[], "x", {"@path": "$.x"}])
def test_a_mapping_is_an_object_of_fields(mapping: Any) -> None:
    with pytest.raises(MappingError, match="mapping must be an object"):
        compile_mapping(mapping)
