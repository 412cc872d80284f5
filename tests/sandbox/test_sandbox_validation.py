"""Item and key checks: messages that name the field, and the fast path agreeing with the slow."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamer.actions._values import is_ipv4, js_trim
from streamer.sandbox import check_activity, check_contact, is_valid_key_shape
from streamer.sandbox._validate import _compile_shape, _explain, parse_bearer

# Items exactly as Segment's reference sent them (from the conformance vectors).
REFERENCE_TRACK_ITEM: dict[str, Any] = {
    "timestamp": "2026-11-28T10:07:00.000Z",
    "message_id": "m-267459",
    "user_id": "u43",
    "enable_batching": True,
    "ip": "1.2.3.4",
    "location": {"country": "AU", "city": "Sydney", "post_code": "2000"},
    "traits": {"tags": 221.9, "first_name": {}, "address": {"city": "Sydney"}},
    "audience_update_mode": "add",
    "batch_size": 500,
    "event": "Product Added",
    "namespace": "com.example.app",
    "properties": {"logins": "Home", "a": None, "price": {"logins": 543.48}},
}
REFERENCE_CONTACT_ITEM: dict[str, Any] = {
    "timestamp": "2026-11-28T10:51:00.000Z",
    "message_id": "m-661412",
    "user_id": "",
    "anonymous_id": "a3",
    "enable_batching": True,
    "ip": "1.2.3.4",
    "location": {"country": "AU", "city": "", "post_code": "2000"},
    "traits": {"email": [False, "175"], "price": 55.98, "name": [None]},
    "audience_update_mode": "add",
    "batch_size": 500,
}


def test_reference_items_are_valid() -> None:
    assert check_activity(REFERENCE_TRACK_ITEM) is None
    assert check_contact(REFERENCE_CONTACT_ITEM) is None
    minimal = {"user_id": "u1", "event": "E"}
    assert check_activity(minimal) is None
    assert check_contact({"anonymous_id": "a1"}) is None
    assert check_activity({**REFERENCE_TRACK_ITEM, "ip": None, "unknown": [1]}) is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ip": "::1"}, "ip"),
        ({"ip": "256.1.1.1"}, "ip"),
        ({"ip": "0001.2.3.4"}, "ip"),
        ({"ip": 1234}, "ip"),
        ({"timestamp": 1700000000}, "timestamp"),
        ({"message_id": None}, "message_id"),
        ({"user_id": 43}, "user_id"),
        ({"anonymous_id": ["a"]}, "anonymous_id"),
        ({"enable_batching": "true"}, "enable_batching"),
        ({"enable_batching": 1}, "enable_batching"),
        ({"location": "Sydney"}, "location"),
        ({"location": {"country": "AU", "zip": "2000"}}, "location"),
        ({"location": {"city": 2000}}, "location.city"),
        ({"traits": []}, "traits"),
        ({"audience_update_mode": "replace"}, "audience_update_mode"),
        ({"audience_update_mode": ["add"]}, "audience_update_mode"),
        ({"batch_size": "500"}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
        ({"audience": {"mode": "add"}}, "audience.id"),
        ({"audience": {"mode": "keep", "id": "x"}}, "audience.mode"),
        ({"audience": {"mode": ["add"], "id": "x"}}, "audience.mode"),
        ({"event": ""}, "event"),
        ({"event": " \t"}, "event"),
        ({"event": 5}, "event"),
        ({"namespace": 1}, "namespace"),
        ({"properties": "x"}, "properties"),
    ],
)
def test_each_problem_names_its_field(change: dict[str, Any], field: str) -> None:
    message = check_activity({**REFERENCE_TRACK_ITEM, **change})
    assert message is not None
    assert message.startswith(f"{field}:") or f"; {field}:" in message


def test_missing_identity_and_event() -> None:
    item = {k: v for k, v in REFERENCE_TRACK_ITEM.items() if k not in ("user_id", "event")}
    message = check_activity(item)
    assert message is not None
    assert "user_id" in message and "anonymous_id" in message and "event" in message
    assert check_contact({"traits": {}}) == "user_id: required when anonymous_id is missing"
    # an empty string is present (Segment sends user_id "" next to an anonymous_id)
    assert check_contact({"user_id": ""}) is None


def test_identify_items_do_not_need_an_event_and_may_carry_one() -> None:
    assert check_contact({"user_id": "u1"}) is None
    assert check_contact({"user_id": "u1", "event": 5}) is None  # not a contact field
    assert check_activity({"user_id": "u1", "event": 5}) is not None


def test_several_problems_are_joined() -> None:
    message = check_activity({**REFERENCE_TRACK_ITEM, "ip": "x", "batch_size": "1"})
    assert message == "ip: must be an IPv4 address string or null; batch_size: must be a number"


@pytest.mark.parametrize("item", [None, 5, "x", [REFERENCE_TRACK_ITEM], True])
def test_non_objects(item: Any) -> None:
    assert check_activity(item) == "item: must be a JSON object"
    assert check_contact(item) == "item: must be a JSON object"


def test_keys() -> None:
    assert is_valid_key_shape("pau-abc")
    assert is_valid_key_shape("seu-")
    assert not is_valid_key_shape("pau_abc")
    assert not is_valid_key_shape("pa-uabc")
    assert not is_valid_key_shape("")
    # The client's own rule: the sandbox never accepts a key the sender would refuse.
    assert not is_valid_key_shape("p12-abc")  # the region is two letters
    assert not is_valid_key_shape(" pau-abc")
    assert not is_valid_key_shape("pau-ab\u00e9")
    assert parse_bearer("Bearer pau-1") == "pau-1"
    assert parse_bearer("bearer pau-1") == "pau-1"
    assert parse_bearer("Basic x") is None
    assert parse_bearer(None) is None
    assert parse_bearer("Bearer   ") is None


_FIELDS = [
    "timestamp", "message_id", "user_id", "anonymous_id", "enable_batching", "ip", "location",
    "traits", "audience_update_mode", "batch_size", "audience", "event", "namespace",
    "properties", "other",
]  # fmt: skip
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 600),
    st.floats(allow_nan=False, width=32),
    st.sampled_from(["", " ", "add", "remove", "1.2.3.4", "300.1.1.1", "::1", "x", "AU"]),
)
_location = st.dictionaries(
    st.sampled_from(["country", "state", "city", "post_code", "zip"]), _scalars, max_size=4
)
_audience = st.dictionaries(
    st.sampled_from(["mode", "id", "x"]),
    st.one_of(_scalars, st.lists(_scalars, max_size=1)),
    max_size=3,
)
_values = st.one_of(
    _scalars,
    _location,
    _audience,
    st.lists(_scalars, max_size=2),
    st.dictionaries(st.text(max_size=3), _scalars, max_size=2),
)
_items = st.dictionaries(st.sampled_from(_FIELDS), _values, max_size=len(_FIELDS))


@settings(max_examples=400, deadline=None)
@given(item=_items, activity=st.booleans())
def test_fast_path_agrees_with_the_messages(item: dict[str, Any], activity: bool) -> None:
    fast = _compile_shape(tuple(item), activity=activity)
    slow = _explain(item, activity=activity)
    assert bool(fast(item)) == (slow is None), slow
    public = check_activity(item) if activity else check_contact(item)
    assert public == slow


# JavaScript's String.prototype.trim removes WhiteSpace and LineTerminator code points, which
# is not Python's str.isspace(): "\x1c"-"\x1f" and "\x85" are spaces to Python only, "\ufeff"
# to JavaScript only.
_JS_BLANK = ["", " ", "\t\n\v\f\r", "\u00a0", "\u1680", "\u2000\u200a", "\u2028\u2029",
             "\u202f", "\u205f", "\u3000", "\ufeff", " \ufeff "]
_NOT_BLANK = ["\x1c", "\x1d", "\x1e", "\x1f", "\x85", " \x85 ", "\u200b", "a", " a "]


@pytest.mark.parametrize("name", _JS_BLANK)
def test_an_event_name_that_trim_leaves_empty_is_blank(name: str) -> None:
    item = {**REFERENCE_TRACK_ITEM, "event": name}
    assert check_activity(item) == "event: missing event name (blank)"
    assert _explain(item, activity=True) == "event: missing event name (blank)"


@pytest.mark.parametrize("name", _NOT_BLANK)
def test_an_event_name_that_trim_keeps_is_not_blank(name: str) -> None:
    item = {**REFERENCE_TRACK_ITEM, "event": name}
    assert check_activity(item) is None
    assert _explain(item, activity=True) is None


def test_the_sandbox_and_streamer_agree_on_blank_event_names() -> None:
    for name in _JS_BLANK + _NOT_BLANK + [chr(c) for c in range(0x3001)] + ["\ufeff"]:
        blank = check_activity({**REFERENCE_TRACK_ITEM, "event": name}) is not None
        assert blank is (js_trim(name) == ""), repr(name)


@pytest.mark.parametrize(
    "ip", ["01.2.3.4", "1.02.3.4", "001.2.3.4", "010.010.010.010", "000.000.000.000",
           "199.099.9.9", "00.0.0.0", "1.2.3.04"],
)
def test_ipv4_with_leading_zeros_is_accepted_as_segment_accepts_it(ip: str) -> None:
    assert check_contact({**REFERENCE_CONTACT_ITEM, "ip": ip}) is None
    assert _explain({**REFERENCE_CONTACT_ITEM, "ip": ip}, activity=False) is None


@pytest.mark.parametrize(
    "ip", ["0001.2.3.4", "256.1.1.1", "1.2.3", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "::1", ""],
)
def test_ipv4_that_segment_refuses_is_refused(ip: str) -> None:
    assert check_contact({**REFERENCE_CONTACT_ITEM, "ip": ip}) == (
        "ip: must be an IPv4 address string or null"
    )


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789. \n", max_size=16))
def test_the_sandbox_and_streamer_agree_on_ipv4(text: str) -> None:
    refused = check_contact({**REFERENCE_CONTACT_ITEM, "ip": text}) is not None
    assert refused is not is_ipv4(text), repr(text)
