"""FQL triggers: each construct, Segment's value rules, and its two grouping quirks."""

from __future__ import annotations

from typing import Any

import pytest

from streamer.mapping import MappingError, compile_trigger, trigger_warnings

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
        # Segment reads the next token as the value, whatever it is: "eos" here, "and" below.
        ("type = ", "found the end of the trigger"),
        ('event = and type = "track"', "expected a value after '='"),
        ('anonymousId = "a"', "unknown field 'anonymousId'"),
        ("properties = null", "properties needs a sub-field"),
        ('!type = "track"', "'!' is only allowed before contains() or match()"),
        ('((type = "track"))', "nested parentheses"),
        ('(type = "track"', "missing ')'"),
        ('type = "a" type = "b"', "expected 'and', 'or'"),
        ('match(event, "a*b")', "one '*'"),
        ('match(event, "ab")', "one '*'"),
        ('contains(type, "t")', "no condition on a field Segment knows (unknown field 'type'"),
        ('match(messageId, "m*")', "unknown field 'messageId'"),
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


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ('traits.email contains "example"', True),
        ('traits.email not_contains "example"', False),
        ('event starts_with "Order"', True),
        ('event not_starts_with "Order"', False),
        ('name ends_with "me"', True),
        ('name not_ends_with "me"', False),
        ('type contains "ac"', True),
        ('userId starts_with "u-"', True),
        ('context.ip ends_with ".4"', True),
        # As in the function forms, the string operators need a string: a number never matches
        # either form, and a missing field matches neither.
        ('properties.total contains "15"', False),
        ('properties.total not_contains "15"', False),
        ('properties.missing not_contains "x"', False),
        # The value is compared in its string form.
        ('properties.plan contains "pro"', True),
        ('traits.email contains 3', False),
        ('properties.count starts_with 1', True),
        ('properties.total number_equals 150', True),
        ('properties.total number_equals 151', False),
        ('properties.count number_equals 10', False),  # "10" is a string, not a number
        ('traits.logins number_not_equals 4', True),
        ('properties.none not_exists 1', True),
        ('properties.flag is_true 1', True),
    ],
)
def test_infix_operators_mean_what_the_function_forms_mean(trigger: str, expected: bool) -> None:
    assert matches(trigger) is expected
    assert trigger_warnings(trigger) == ()


def test_the_infix_and_function_forms_agree() -> None:
    for field in ("event", "name", "userId", "properties.plan", "traits.email", "context.ip"):
        for text in ("", "o", "Order", "e", "example.com", "4", "zzz"):
            for negate in (False, True):
                bang, prefix = ("!", "not_") if negate else ("", "")
                assert matches(f'{bang}contains({field}, "{text}")') is matches(
                    f'{field} {prefix}contains "{text}"'
                ), (field, text)
                assert matches(f'{bang}match({field}, "{text}*")') is matches(
                    f'{field} {prefix}starts_with "{text}"'
                ), (field, text)
                assert matches(f'{bang}match({field}, "*{text}")') is matches(
                    f'{field} {prefix}ends_with "{text}"'
                ), (field, text)


def test_an_unknown_operator_parses_never_matches_and_is_reported() -> None:
    trigger = 'type = "track" and traits.email frobnicates "example"'
    assert not matches(trigger)
    assert not matches('type = "track" or traits.email frobnicates "example"', {"type": "page"})
    assert matches('type = "track" or traits.email frobnicates "example"')
    (warning,) = trigger_warnings(trigger)
    assert "'frobnicates' is not an operator Segment knows" in warning
    assert "column 33" in warning
    # `match` is a function, not an operator word.
    assert not matches('event match "Order*"')
    assert len(trigger_warnings('event match "Order*"')) == 1


def test_a_condition_on_an_unknown_field_is_ignored_as_segment_ignores_it() -> None:
    assert matches('type = "track" and messageId ends_with "zzz"')
    assert not matches('type = "page" or timestamp = "x"')
    (warning,) = trigger_warnings('type = "track" and messageId ends_with "zzz"')
    assert "unknown field 'messageId'" in warning
    assert "ignores" in warning
    # The functions likewise: Segment's know no other field (not even type).
    assert matches('type = "track" and contains(type, "zzz")')
    assert matches('type = "track" and !match(messageId, "m*")')
    (warning,) = trigger_warnings('type = "track" and contains(type, "zzz")')
    assert "contains() on the field 'type'" in warning
    # Nothing left: Segment fails on such a trigger, and so does this one.
    with pytest.raises(MappingError, match="no condition on a field Segment knows"):
        compile_trigger('anonymousId not_starts_with ""')
