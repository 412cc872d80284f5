"""Validation as Segment's framework does it: removals, order of checks, coercion, messages."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamer.actions import TRACK_ACTIVITY, UPSERT_CONTACT, Refusal, presets, validator_for
from streamer.actions._specialise import general_checker, specialise
from streamer.actions._values import (
    describe_type,
    is_date_time,
    is_ipv4,
    js_number_from_string,
    js_string,
)

track = validator_for(TRACK_ACTIVITY)
contact = validator_for(UPSERT_CONTACT)

MISSING_USER = (
    "The root value is missing the required field 'user_id'. "
    'The root value must match "then" schema.'
)
MISSING_ANON = (
    "The root value is missing the required field 'anonymous_id'. "
    'The root value must match "then" schema.'
)
MISSING_EVENT = "The root value is missing the required field 'event'."
BAD_IP = "IP Address must be a valid IPv4 address string but it was not."


def _refusal(message: str) -> Refusal:
    return Refusal(400, message)


def test_valid_item_is_returned_as_is() -> None:
    item = {"user_id": "u1", "event": "x", "ip": "10.0.0.1", "location": {"city": None}}
    assert track(item) is item


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"event": "x"}, f"{MISSING_USER} {MISSING_ANON}"),
        ({"event": "x", "user_id": None}, f"{MISSING_USER} {MISSING_ANON}"),
        ({"event": "x", "user_id": ""}, MISSING_ANON),
        ({"event": "x", "anonymous_id": ""}, MISSING_USER),
        ({}, f"{MISSING_USER} {MISSING_ANON} {MISSING_EVENT}"),
        ({"user_id": "u", "ip": "::1"}, f"{MISSING_EVENT} {BAD_IP}"),
        ({"user_id": "u", "event": "x", "ip": "bad-ip"}, BAD_IP),
        ({"user_id": "u", "event": "x", "ip": ""}, BAD_IP),
        ({"user_id": "u", "event": None}, MISSING_EVENT),
        ({"anonymous_id": None, "ip": "1.2.3"}, f"{MISSING_USER} {MISSING_ANON} "
                                                f"{MISSING_EVENT} {BAD_IP}"),
    ],
)
def test_messages_and_their_order(item: dict[str, Any], message: str) -> None:
    assert track(item) == _refusal(message)


def test_empty_identifiers_satisfy_each_other() -> None:
    item = {"user_id": "", "anonymous_id": "", "event": "x"}
    assert track(item) == item


def test_null_is_removed_where_not_allowed_and_kept_where_allowed() -> None:
    result = track({"user_id": "u", "event": "x", "message_id": None, "ip": None,
                    "location": None, "traits": None})
    assert result == {"user_id": "u", "event": "x", "ip": None, "location": None}


def test_empty_string_is_kept_for_strings_and_removed_otherwise() -> None:
    result = track({"user_id": "", "anonymous_id": "a", "event": "", "enable_batching": "",
                    "batch_size": "", "traits": "", "location": {"city": ""}})
    assert result == {"user_id": "", "anonymous_id": "a", "event": "", "location": {"city": ""}}


def test_keys_that_are_not_fields_are_dropped_silently() -> None:
    result = contact({"user_id": "u", "surprise": 1, "": 2, "event": "not a contact field"})
    assert result == {"user_id": "u"}


def test_location_keeps_only_its_four_keys() -> None:
    source = {"country": "AU", "zip": "2000", "state": None}
    result = contact({"user_id": "u", "location": source})
    assert result == {"user_id": "u", "location": {"country": "AU", "state": None}}
    assert source == {"country": "AU", "zip": "2000", "state": None}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(123, "123"), (1.5, "1.5"), (2.0, "2"), (True, "true"), ([7], "7"), (["x"], "x"),
     ([None], ""), (1e21, "1e+21"), (1e-7, "1e-7")],
)
def test_scalars_are_coerced_to_strings(value: Any, expected: str) -> None:
    result = track({"user_id": value, "event": "x"})
    assert result == {"user_id": expected, "event": "x"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("250", 250), (" 12.5 ", 12.5), ("0x10", 16), (True, 1), (False, 0), ([3], 3), ("1e3", 1000)],
)
def test_values_are_coerced_to_numbers(value: Any, expected: float) -> None:
    result = contact({"user_id": "u", "batch_size": value})
    assert isinstance(result, dict) and result["batch_size"] == expected
    assert type(result["batch_size"]) is type(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("false", False), (1, True), (0, False), (0.0, False), ([1], True)],
)
def test_values_are_coerced_to_booleans(value: Any, expected: bool) -> None:
    result = contact({"user_id": "u", "enable_batching": value})
    assert isinstance(result, dict) and result["enable_batching"] is expected


def test_ip_coercion_then_format() -> None:
    assert track({"user_id": "u", "event": "x", "ip": 0}) == _refusal(BAD_IP)
    assert track({"user_id": "u", "event": "x", "ip": ["1.2.3.4"]}) == {
        "user_id": "u", "event": "x", "ip": "1.2.3.4"}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"user_id": {}}, "User ID must be a string but it was an object."),
        ({"user_id": [1, 2]}, "User ID must be a string but it was an array."),
        ({"user_id": "u", "batch_size": "lots"},
         "Batch Size must be a number but it was a string."),
        ({"user_id": "u", "enable_batching": "yes"},
         "Batch data must be a boolean but it was a string."),
        ({"user_id": "u", "traits": "x"},
         "Custom Contact traits must be an object but it was a string."),
        ({"user_id": "u", "traits": [{"a": 1}, {}]},
         "Custom Contact traits must be an object but it was an array."),
        ({"user_id": "u", "ip": {}}, "IP Address must be a string or null but it was an object."),
        ({"user_id": "u", "location": "AU"},
         "Location must be an object or null but it was a string."),
        ({"user_id": "u", "location": {"country": {"code": "AU"}}},
         "Country must be a string or null but it was an object."),
        ({"user_id": "u", "audience_update_mode": "added"},
         'Audience update mode must be one of: "add" or "remove".'),
        ({"user_id": "u", "timestamp": "yesterday"},
         "Timestamp must be a valid date and time string but it was not."),
        ({"user_id": "u", "timestamp": "2026-02-30T10:00:00Z"},
         "Timestamp must be a valid date and time string but it was not."),
    ],
)
def test_type_format_and_choice_messages_name_the_field(
    item: dict[str, Any], message: str
) -> None:
    assert contact(item) == _refusal(message)


def test_problems_come_in_field_order() -> None:
    item = {"batch_size": "x", "ip": "bad", "timestamp": "bad", "user_id": "u"}
    assert contact(item) == _refusal(
        "Timestamp must be a valid date and time string but it was not. "
        f"{BAD_IP} Batch Size must be a number but it was a string."
    )


def test_literal_problems_for_start_up_checks() -> None:
    assert contact.literal_problems("audience_update_mode", "add") == []
    assert contact.literal_problems("batch_size", 500) == []
    assert contact.literal_problems("audience_update_mode", "both") == [
        'Audience update mode must be one of: "add" or "remove".']
    assert contact.literal_problems("enable_batching", None) == []  # null = not mapped


def test_formats() -> None:
    assert is_ipv4("255.255.255.255") and is_ipv4("0.0.0.0")
    assert is_ipv4("01.2.3.4") and is_ipv4("000.000.000.000")  # ajv-formats 2.1.1
    for bad in ("256.1.1.1", "0001.2.3.4", "1.2.3", "::1", "1.2.3.4\n", " 1.2.3.4", "\u0661.2.3.4"):
        assert not is_ipv4(bad), bad
    for good in ("2026-11-28T10:07:00.000Z", "2024-02-29t00:00:00+05:30", "2026-11-28 10:07:00",
                 "2026-12-31T23:59:60Z", "2026-01-01T00:00:00-0800"):
        assert is_date_time(good), good
    for bad in ("2026-11-28", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
                "2026-11-28T24:00:00Z", "2026-11-28T10:07Z", "2026-11-28T10:07:00Z\n",
                "2026-11-28TT10:07:00Z"):
        assert not is_date_time(bad), bad


def test_javascript_conversions() -> None:
    assert [js_string(v) for v in (0, -0.0, 100.0, 0.000001, 1.5e300, 2**60, False)] == [
        "0", "0", "100", "0.000001", "1.5e+300", "1152921504606847000", "false"]
    assert js_number_from_string("") == 0.0
    assert js_number_from_string("-Infinity") == float("-inf")
    assert js_number_from_string("1_000") is None
    assert js_number_from_string("nan") is None
    values: tuple[Any, ...] = (None, True, 1, 1.5, "", [], {})
    assert [describe_type(v) for v in values] == [
        "null", "a boolean", "a number", "a number", "a string", "an array", "an object"]


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-1000, 1000), st.floats(allow_nan=False, width=32),
    st.sampled_from(["", "1.2.3.4", "u1", "add", "remove", "2026-11-28T10:07:00Z", "true", "5"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["", "country", "city", "a"]), inner, max_size=3),
    max_leaves=6,
)
_keys = st.sampled_from([f.key for f in TRACK_ACTIVITY.fields] + ["other", ""])


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=8))
def test_fast_path_agrees_with_the_complete_procedure(item: dict[str, Any]) -> None:
    before = copy.deepcopy(item)
    fast = track(item)
    complete = track.complete(item)
    assert fast == complete
    assert item == before  # neither path modifies the caller's item


# The date-time fast path is compared with the rules in test_scan.py (both flavours).


def _mapping_items(mapping: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Items such a mapping can produce: its literals as written, anything elsewhere."""
    parts: dict[str, st.SearchStrategy[list[Any]]] = {}
    for key, source in mapping.items():
        if source is None or isinstance(source, str | int | float | bool):
            parts[key] = st.just([source])
        elif isinstance(source, dict) and not any(k.startswith("@") for k in source):
            parts[key] = st.lists(
                st.dictionaries(st.sampled_from(sorted(source)), _values, max_size=4),
                max_size=1,
            )
        else:
            parts[key] = st.lists(_values, max_size=1)
    return st.fixed_dictionaries(parts).map(
        lambda chosen: {k: v[0] for k, v in chosen.items() if v}
    )


_MAPPINGS = [
    *(p.mapping for p in presets()),
    {"user_id": {"@path": "$.userId"}, "event": {"@template": "x"}, "enable_batching": "true",
     "batch_size": "250", "audience_update_mode": "remove", "ip": None,
     "location": {"@path": "$.context.location"}},
    {"anonymous_id": 5, "event": "Literal", "location": {"city": "Paris", "zip": "75001"}},
]


@pytest.mark.parametrize("mapping", _MAPPINGS, ids=range(len(_MAPPINGS)))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_specialised_validator_agrees_with_the_complete_procedure(
    mapping: dict[str, Any], data: st.DataObject
) -> None:
    specialised = specialise(track, TRACK_ACTIVITY.fields, mapping)
    general = general_checker(track)
    item = data.draw(_mapping_items(mapping))
    before = copy.deepcopy(item)
    assert specialised(item) == general(item)
    assert item == before


def test_presets_get_a_specialised_check() -> None:
    for preset in presets():
        check = specialise(track, TRACK_ACTIVITY.fields, preset.mapping)
        code = getattr(check, "__code__", None)
        assert code is not None and code.co_filename.startswith("<item check of")
        assert getattr(check, "__closure__", None) is not None
