"""Compile a parsed FQL trigger into one predicate closure.

Lifecycle: :func:`compile_trigger` runs once per subscription at start-up (parse, translate,
build closures); the returned predicate runs once per event on the hot path and does no
parsing, no allocation beyond the look-ups, and never mutates the event.

Each Segment operator keeps Segment's exact rule (``validateValue`` in
``@segment/destination-subscriptions``), which is stricter than it looks:

=====================  ====================================================================
operator               matches when the field value ...
=====================  ====================================================================
``=`` / ``!=``         is / is not the *string* written (numbers and booleans are compared
                       in their string form for type, event, name and userId)
number_equals          is a number equal to it (``properties.x = 5``); ``!= 5`` likewise
                       needs a number, so a missing field matches neither
``<`` ``<=`` ...       is a number, compared with ``Number(value)`` (``"10"`` is 10,
                       ``true`` is 1, ``null`` and other words never match)
contains, starts_with  is a string containing / starting / ending with the text; the
...                    negated forms also need a string (a missing field matches neither)
exists / not_exists    is not / is null or missing (``!= null`` / ``= null``)
is_true / is_false     is the boolean ``true`` / ``false`` (``= true`` / ``= false``)
an unknown word        never (``traits.x frobnicates "y"``: Segment parses it, matches nothing)
=====================  ====================================================================

The operators written as words after a field (``traits.email contains "x"``) are these same
operators, with the same rules. :func:`trigger_warnings` lists what a trigger says that Segment
accepts but ignores or never matches (unknown operator words, conditions on unknown fields), for
the router to report at start-up.

Within a group, ``and`` short-circuits on the first failure, ``or`` on the first match.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ._fql import NEVER, Comparison, Node, parse_fql, parse_fql_warnings
from ._js import UNDEFINED, is_number, to_number
from ._paths import Getter, make_getter

__all__ = ["Trigger", "compile_trigger", "field_equality", "trigger_warnings"]

Trigger = Callable[[Mapping[str, Any]], bool]
_Test = Callable[[Any], bool]


def compile_trigger(text: str) -> Trigger:
    """Compile an FQL trigger into ``predicate(event) -> bool``.

    Raises :class:`~streamer.MappingError` (with column and reason) for an invalid trigger.
    """
    return _compile_node(parse_fql(text))


def trigger_warnings(text: str) -> tuple[str, ...]:
    """What Segment accepts in this trigger but ignores or never matches, one message each.

    Raises :class:`~streamer.MappingError` as :func:`compile_trigger` does.
    """
    return parse_fql_warnings(text)


def field_equality(text: str) -> tuple[str, str] | None:
    """``(field, value)`` when the trigger is exactly ``field = "value"`` on a top-level field
    (the presets' ``type = "track"``), else ``None``.

    The trigger then matches an event when ``event.get(field)`` is a ``str`` equal to
    ``value``: the router reads a field that several such triggers share once per event.
    Raises :class:`~streamer.MappingError` as :func:`compile_trigger` does.
    """
    node: Node = parse_fql(text)
    while not isinstance(node, Comparison) and len(node.children) == 1:
        node = node.children[0]
    if (
        isinstance(node, Comparison)
        and not node.path
        and node.operator == "="
        and type(node.value) is str
    ):
        return node.root, node.value
    return None


def _compile_node(node: Node) -> Trigger:
    if isinstance(node, Comparison):
        return _compile_comparison(node)
    children = tuple(_compile_node(child) for child in node.children)
    if len(children) == 1:
        return children[0]
    return _all_of(children) if node.operator == "and" else _any_of(children)


def _all_of(children: tuple[Trigger, ...]) -> Trigger:
    if len(children) == 2:
        first, second = children
        return lambda event: first(event) and second(event)

    def all_of(event: Mapping[str, Any]) -> bool:
        # A plain loop: all() over a generator costs a frame per event on the hot path.
        for child in children:  # noqa: SIM110
            if not child(event):
                return False
        return True

    return all_of


def _any_of(children: tuple[Trigger, ...]) -> Trigger:
    if len(children) == 2:
        first, second = children
        return lambda event: first(event) or second(event)

    def any_of(event: Mapping[str, Any]) -> bool:
        for child in children:  # noqa: SIM110
            if child(event):
                return True
        return False

    return any_of


def _compile_comparison(node: Comparison) -> Trigger:
    test = _make_test(node.operator, node.value)
    if not node.path:
        key = node.root
        if node.operator == "=":
            # The presets' `type = "track"`: one frame instead of two on every event.
            expected = node.value

            def top_field_equals(event: Mapping[str, Any]) -> bool:
                actual = event.get(key, UNDEFINED)
                return type(actual) is str and actual == expected

            return top_field_equals

        def top_field(event: Mapping[str, Any]) -> bool:
            return test(event.get(key, UNDEFINED))

        return top_field
    getter: Getter = make_getter((node.root, *node.path))
    return lambda event: test(getter(event))


def _make_test(operator: str, expected: Any) -> _Test:
    """The predicate on the field value for one of Segment's operators."""
    if operator == "=":
        return lambda actual: type(actual) is str and actual == expected
    if operator == "!=":
        return lambda actual: not (type(actual) is str and actual == expected)
    if operator in ("number_equals", "number_not_equals"):
        number = to_number(expected)
        if operator == "number_equals":
            return lambda actual: is_number(actual) and to_number(actual) == number
        return lambda actual: is_number(actual) and to_number(actual) != number
    if operator in ("<", "<=", ">", ">="):
        return _ordering(operator, to_number(expected))
    if operator in _STRING_TESTS:
        text_test = _STRING_TESTS[operator]
        return lambda actual: type(actual) is str and text_test(actual, expected)
    if operator == "exists":
        return lambda actual: actual is not None and actual is not UNDEFINED
    if operator == "not_exists":
        return lambda actual: actual is None or actual is UNDEFINED
    if operator == "is_true":
        return lambda actual: actual is True
    if operator == "is_false":
        return lambda actual: actual is False
    if operator == NEVER:
        return lambda actual: False
    raise AssertionError(f"unknown operator {operator!r}")  # the parser produces no other


def _ordering(operator: str, bound: float) -> _Test:
    # NaN compares false both ways, as in JavaScript, so an unparsable bound never matches.
    if operator == "<":
        return lambda actual: is_number(actual) and to_number(actual) < bound
    if operator == "<=":
        return lambda actual: is_number(actual) and to_number(actual) <= bound
    if operator == ">":
        return lambda actual: is_number(actual) and to_number(actual) > bound
    return lambda actual: is_number(actual) and to_number(actual) >= bound


_STRING_TESTS: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda actual, text: text in actual,
    "not_contains": lambda actual, text: text not in actual,
    "starts_with": str.startswith,
    "not_starts_with": lambda actual, text: not actual.startswith(text),
    "ends_with": str.endswith,
    "not_ends_with": lambda actual, text: not actual.endswith(text),
}
