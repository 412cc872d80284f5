"""The JavaScript rules the engines lean on, checked against values Node.js gives."""

from __future__ import annotations

import math
from typing import Any

import pytest

from streamer.mapping._js import (
    UNDEFINED,
    json_stringify,
    keys_in_order,
    loose_ne_empty,
    number_to_string,
    to_number,
    to_string,
    truthy,
)
from streamer.mapping._paths import get_path, split_fql_path, split_mapping_path


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1.0, "1"),
        (-0.0, "0"),
        (2.5, "2.5"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"),
        (123456789.125, "123456789.125"),
        (math.inf, "Infinity"),
        (math.nan, "NaN"),
        (2**60, "1152921504606847000"),  # a double, printed shortest
        (2**70, "1.1805916207174113e+21"),
    ],
)
def test_number_to_string(number: float, text: str) -> None:
    assert number_to_string(number) == text


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("", 0.0),
        (" 12 ", 12.0),
        ("0x1A", 26.0),
        ("1e3", 1000.0),
        ("-Infinity", -math.inf),
        ("1_000", math.nan),
        ("inf", math.nan),
        ("12px", math.nan),
        (True, 1.0),
        (None, 0.0),
        (UNDEFINED, math.nan),
        (["7"], 7.0),
        ({}, math.nan),
    ],
)
def test_to_number(value: Any, number: float) -> None:
    result = to_number(value)
    assert (math.isnan(result) and math.isnan(number)) or result == number


def test_to_string_and_truthiness() -> None:
    assert to_string([1, None, [2, "a"], {}]) == "1,,2,a,[object Object]"
    assert to_string(False) == "false"
    assert [truthy(v) for v in (0, 0.0, "", None, UNDEFINED, False, math.nan)] == [False] * 7
    assert all(truthy(v) for v in ({}, [], "0", -1, "false"))
    assert [loose_ne_empty(v) for v in (0, False, [], [None], "", "a", {}, 1)] == [
        False,
        False,
        False,
        False,
        False,
        True,
        True,
        True,
    ]


def test_json_stringify_follows_javascript() -> None:
    value = {"b": [1.0, UNDEFINED, math.nan], "2": "x", "a": {"u": UNDEFINED}, "10": "\u2028\x01"}
    assert json_stringify(value) == '{"2":"x","10":"\u2028\\u0001","b":[1,null,null],"a":{}}'
    assert json_stringify(UNDEFINED) is UNDEFINED
    assert json_stringify({"a": [1]}, "  ") == '{\n  "a": [\n    1\n  ]\n}'
    assert keys_in_order({"b": 1, "01": 1, "1": 1, "0": 1}) == ["0", "1", "b", "01"]


@pytest.mark.parametrize(
    ("path", "keys"),
    [
        ("$.a.b", ("a", "b")),
        ("a.b[0]", ("a", "b", "0")),
        ("$.a['b c'].d", ("a", "b c", "d")),
        ('a["x"][1]', ("a", "x", "1")),
        ("$.", ()),
        (".", ()),
        ("a[b]", ("a[b]",)),
        ("x.$.y", ("x", "y")),  # only the first "$." goes, wherever it is
    ],
)
def test_mapping_paths(path: str, keys: tuple[str, ...]) -> None:
    assert split_mapping_path(path) == keys


def test_fql_paths_split_on_dots_and_brackets() -> None:
    assert split_fql_path("a.b[0]") == ("a", "b", "0")


def test_walking_stops_at_falsy_values_and_reads_lengths() -> None:
    data = {"s": "héllo😀", "list": [0, ""], "zero": 0, "none": None}
    assert get_path(data, ("s", "length")) == 7  # UTF-16 code units
    assert get_path(data, ("s", "1")) == "é"
    assert get_path(data, ("list", "1", "x")) == ""
    assert get_path(data, ("zero", "x", "y")) == 0
    assert get_path(data, ("none", "x")) is None
    assert get_path(data, ("missing", "x")) is UNDEFINED
    assert get_path(data, ("list", "01")) is UNDEFINED
    assert get_path(5, ("x",)) is UNDEFINED
