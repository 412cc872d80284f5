"""FQL triggers: each construct, Segment's value rules, and its two grouping quirks."""

from __future__ import annotations

from typing import Any

import pytest

from streamer.mapping import MappingError, compile_trigger

EVENT: dict[str, Any] = {
    "type": "track",
    "event": "Order Completed",
    "name": "Home",
    "userId": "u-1",
    "properties": {
        "total": 150,
        "price": 9.5,
        "count": "10",
        "plan": "pro",
        "flag": True,
        "off": False,
        "none": None,
        "zero": 0,
        "address": {"city": "Sydney"},
        "tags": ["a", "b"],
    },
    "traits": {"email": "jane@example.com", "logins": 3},
    "context": {"app": {"namespace": "com.example"}, "ip": "1.2.3.4"},
}


def matches(trigger: str, event: dict[str, Any] = EVENT) -> bool:
    return compile_trigger(trigger)(event)


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ('type = "track"', True),
        ('type = "identify"', False),
        ('type != "identify"', True),
        ('event = "Order Completed"', True),
        ('name = "Home"', True),
        ('userId = "u-1"', True),
        ('properties.plan = "pro"', True),
        ('properties.address.city = "Sydney"', True),
        ('traits.email = "jane@example.com"', True),
        ('context.app.namespace = "com.example"', True),
        ('context.app.missing = "x"', False),
    ],
)
def test_equality_on_every_kind_of_field(trigger: str, expected: bool) -> None:
    assert matches(trigger) is expected


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ("properties.total > 100", True),
        ("properties.total >= 150", True),
        ("properties.total < 150", False),
        ("properties.price <= 9.5", True),
        ("properties.price > -2", True),
        # the bound is converted with Number(): "100" is 100, true is 1, words never match
        ('properties.total > "100"', True),
        ("properties.zero < true", True),
        ('properties.total > "many"', False),
        ("properties.total > null", False),
        # only numbers are ordered: the string "10" is not 10
        ("properties.count > 5", False),
        ("properties.missing < 5", False),
    ],
)
def test_ordering_compares_numbers_only(trigger: str, expected: bool) -> None:
    assert matches(trigger) is expected


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ("properties.total = 150", True),
        ("properties.total = 150.0", True),
        ('properties.total = "150"', False),  # a string compares as a string
        ('properties.count = "10"', True),
        ("properties.count = 10", False),  # a number literal needs a number
        ("properties.total != 149", True),
        ("properties.missing != 149", False),  # ... and so does !=
        ('properties.missing != "x"', True),
        ("type = 5", False),
    ],
)
def test_numbers_and_strings_do_not_mix(trigger: str, expected: bool) -> None:
    assert matches(trigger) is expected


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ("properties.flag = true", True),
        ("properties.off = false", True),
        ("properties.flag = false", False),
        ('properties.flag = "true"', False),
        ("properties.none = null", True),
        ("properties.missing = null", True),
        ("properties.plan = null", False),
        ("properties.plan != null", True),
        ("properties.none != null", False),
        ("userId != null", True),
        ("name = null", False),
        # event and type compare with the text "null": Segment has no null check for them
        ("event != null", True),
        ("event = null", False),
        # != true compares with the string "true"
        ("properties.flag != true", True),
    ],
)
def test_booleans_and_null(trigger: str, expected: bool) -> None:
    assert matches(trigger) is expected


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ('contains(event, "Completed")', True),
        ('contains(traits.email, "@example.com")', True),
        ('!contains(event, "Added")', True),
        ('!contains(properties.missing, "x")', False),  # negations need a string too
        ('contains(properties.total, "15")', False),
        ('match(event, "Order*")', True),
        ('match(event, "*Completed")', True),
        ('match(name, "*ome")', True),
        ('!match(event, "Order*")', False),
        ('match(event, "*")', True),
        ('match(properties.total, "*")', False),
    ],
)
def test_functions(trigger: str, expected: bool) -> None:
    assert matches(trigger) is expected


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ('type = "track" and properties.total > 100', True),
        ('type = "identify" or properties.total > 100', True),
        ('type = "identify" or name = "x"', False),
        ('(type = "identify" or name = "Home") and userId = "u-1"', True),
        ('(type = "identify" or name = "x") and userId = "u-1"', False),
    ],
)
def test_and_or_and_parentheses(trigger: str, expected: bool) -> None:
    assert matches(trigger) is expected


def test_the_last_conjunction_of_a_level_applies_to_the_whole_level() -> None:
    # Segment keeps one operator per group: "a or b and c" is "a and b and c".
    assert matches('type = "track" or name = "x" and userId = "u-1"') is False
    assert matches('name = "x" and userId = "u-1" or type = "track"') is True


def test_a_function_call_ends_a_parenthesised_group_early() -> None:
    # Segment's group stops at the call's own ")": the rest joins the outer level and its
    # last operator ("or" here), so this means: name = "x" or contains(event, "Order")
    # or type = "page" or userId = "z".
    trigger = 'name = "x" and (contains(event, "Order") and type = "page") or userId = "z"'
    assert matches(trigger) is True
    assert matches(trigger, {**EVENT, "event": "Signed Up"}) is False


def test_falsy_values_on_the_way_are_returned_not_undefined() -> None:
    # properties.zero is 0: "zero.deeper" is 0 as well (JavaScript's a && a.b), so it is a number
    assert matches("properties.zero.deeper = 0") is True
    assert matches("properties.none.deeper = null") is True
    assert matches("properties.tags.length = 2") is True


def test_an_event_without_the_root_object() -> None:
    assert matches("properties.total > 1", {"type": "track"}) is False
    assert matches("properties.total = null", {"type": "track"}) is True


def test_escaped_characters_in_field_names() -> None:
    event = {"properties": {"first name": "Jane", "a-b": 1}}
    assert matches('properties.first\\ name = "Jane"', event) is True
    assert matches("properties.a-b = 1", event) is True


def test_the_predicate_does_not_touch_the_event() -> None:
    event = {"type": "track", "properties": {"a": {"b": [1]}}}
    before = repr(event)
    assert compile_trigger("properties.a.c = null and properties.a.b.length = 1")(event) is True
    assert repr(event) == before


@pytest.mark.parametrize(
    ("trigger", "fragment"),
    [
        ("", "empty"),
        ('type = "track" and', "expected a condition"),
        ('type == "track"', "'==' is not an FQL operator"),
        ("type = 'track'", "single-quoted"),
        ('type = "track', "unterminated string"),
        ("type = track", "expected a value"),
        ('anonymousId = "a"', "unknown field 'anonymousId'"),
        ("properties = null", "properties needs a sub-field"),
        ('!type = "track"', "'!' is only allowed before contains() or match()"),
        ('((type = "track"))', "nested parentheses"),
        ('(type = "track"', "missing ')'"),
        ('type = "a" type = "b"', "expected 'and', 'or'"),
        ('match(event, "a*b")', "one '*'"),
        ('match(event, "ab")', "one '*'"),
        ('contains(type, "t")', "does not accept the field 'type'"),
        ('contains(event "t")', "expected ','"),
        ("properties.total > 1.", "decimal point"),
        ("properties.tags.0 = 1", "starting with a letter"),
        ('type = "a" # x', "unexpected character '#'"),
    ],
)
def test_invalid_triggers_say_where_and_why(trigger: str, fragment: str) -> None:
    with pytest.raises(MappingError) as raised:
        compile_trigger(trigger)
    message = str(raised.value)
    assert fragment in message
    assert "column" in message
    assert repr(trigger) in message


def test_the_column_points_at_the_problem() -> None:
    with pytest.raises(MappingError, match=r"at column 12\)"):
        compile_trigger('type = "a" type = "b"')


def test_a_trigger_must_be_text() -> None:
    with pytest.raises(MappingError, match="must be a string"):
        compile_trigger(42)  # type: ignore[arg-type]
