"""Properties of compiled mappings on generated mappings and events.

- the compiled mapper (closures, folding, generated code) equals the reference interpreter;
- evaluation never mutates the event or the mapping, and is deterministic;
- a ``dict`` event (generated fast path) and another ``Mapping`` (closure path) agree.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamer.mapping import MappingError, compile_mapping, compile_trigger
from streamer.mapping._interpret import interpret

KEYS = ["a", "b", "tags", "0", "n", "k k", "total"]
PATHS = [
    "$.userId",
    "$.event",
    "$.properties",
    "$.properties.a",
    "$.properties.tags.0",
    "$.properties.tags[1]",
    "$.traits.n.a",
    "$.context.b",
    "$.missing",
    "$.",
    "properties.total",
    '$.properties["k k"]',
    "$.properties.a.length",
    "$.a",
    "$.b",
]
TEMPLATES = [
    "{{properties.a}}-{{ event }}",
    "Hi {{{traits.n}}}",
    "{{properties.tags}}",
    "{{a}}{{b}}",
]
LIQUID = [
    "{{ properties.a }}",
    "{{ properties | json }}",
    "{% if properties.total > 1 %}big{% endif %}",
    "{{ properties.tags | join: '-' }}",
    "{{ event | upcase }}",
    "{% for x in y %}{% endfor %}",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 20),
    st.sampled_from([0.5, 2.0, -1.25]),
    st.sampled_from(["", "a", "Nike", "10", "a b-c", "null", "true", '{"a":1}', "[1]", "$&"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)
    ),
    max_leaves=8,
)
events = st.fixed_dictionaries(
    {"type": st.sampled_from(["track", "identify"])},
    optional={
        "event": scalars,
        "userId": scalars,
        "properties": st.dictionaries(st.sampled_from(KEYS), json_values, max_size=5),
        "traits": st.dictionaries(st.sampled_from(KEYS), json_values, max_size=4),
        "context": json_values,
    },
)


def _directives(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    path = st.sampled_from(PATHS)
    return st.one_of(
        st.builds(lambda p: {"@path": p}, path),
        st.builds(lambda t: {"@template": t}, st.sampled_from(TEMPLATES)),
        st.builds(lambda v: {"@literal": v}, inner),
        st.builds(
            lambda key, cond, branches: {"@if": {key: cond, **branches}},
            st.sampled_from(["exists", "blank"]),
            inner,
            st.fixed_dictionaries({}, optional={"then": inner, "else": inner}),
        ),
        st.builds(
            lambda op, v: {"@case": {"operator": op, "value": v}},
            st.sampled_from(["lower", "upper"]),
            st.builds(lambda p: {"@path": p}, path),
        ),
        st.builds(
            lambda pat, rep, v, g, i: {
                "@replace": {
                    "pattern": pat,
                    "replacement": rep,
                    "value": v,
                    "global": g,
                    "ignorecase": i,
                }
            },
            st.sampled_from(["a", " ", ".", "-"]),
            st.sampled_from(["", "_", "$&"]),
            st.builds(lambda p: {"@path": p}, path),
            st.booleans(),
            st.booleans(),
        ),
        st.builds(
            lambda p, shape: {"@arrayPath": [p, shape]},
            path,
            st.one_of(
                st.just({}),
                st.dictionaries(st.sampled_from(["x", "y"]), inner, min_size=1, max_size=2),
            ),
        ),
        st.builds(
            lambda sep, v, omit: {"@flatten": {"separator": sep, "value": v, "omitArrays": omit}},
            st.sampled_from([".", "_", ""]),
            inner,
            st.booleans(),
        ),
        st.builds(
            lambda mode, v: {"@json": {"mode": mode, "value": v}},
            st.sampled_from(["encode", "decode"]),
            inner,
        ),
        st.builds(
            lambda direction, objects: {"@merge": {"direction": direction, "objects": objects}},
            st.sampled_from(["left", "right"]),
            st.lists(
                st.one_of(
                    st.dictionaries(st.sampled_from(["a", "b"]), inner, max_size=2),
                    st.builds(lambda p: {"@path": p}, path),
                ),
                min_size=1,
                max_size=3,
            ),
        ),
        st.builds(lambda v: {"@excludeWhenNull": v}, inner),
        st.builds(
            lambda apply: {
                "@transform": {
                    "apply": apply,
                    "mapping": {"x": {"@path": "$.a"}, "y": {"@path": "$.b"}},
                }
            },
            st.dictionaries(st.sampled_from(["a", "b"]), inner, min_size=1, max_size=2),
        ),
        st.builds(lambda t: {"@liquid": t}, st.sampled_from(LIQUID)),
    )


mapping_values = st.recursive(
    st.one_of(scalars, st.builds(lambda p: {"@path": p}, st.sampled_from(PATHS))),
    lambda inner: st.one_of(
        _directives(inner),
        st.dictionaries(st.sampled_from(["p", "q"]), inner, max_size=2),
        st.lists(inner, max_size=2),
    ),
    max_leaves=6,
)
mappings = st.dictionaries(
    st.sampled_from(["f1", "f2", "f3", "f4"]), mapping_values, min_size=1, max_size=4
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(run: Callable[[], Any]) -> Any:
    try:
        return ("ok", run())
    except MappingError:
        return ("error",)


def _compiled(mapping: dict[str, Any], event: Any) -> Any:
    return compile_mapping(mapping)(event)


def same(left: Any, right: Any) -> bool:
    """Equality that also tells 1 from True and 1.0 from 1 (both sides come from Python)."""
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if type(left) is not type(right):
        return False
    if isinstance(left, list | tuple):
        return len(left) == len(right) and all(map(same, left, right))
    return bool(left == right)


@SETTINGS
@given(mappings, events)
def test_compiled_equals_the_reference_interpreter(
    mapping: dict[str, Any], event: dict[str, Any]
) -> None:
    expected = outcome(lambda: interpret(mapping, event))
    assert same(outcome(lambda: _compiled(mapping, event)), expected)
    assert same(outcome(lambda: _compiled(mapping, MappingProxyType(event))), expected)


@SETTINGS
@given(mappings, events)
def test_evaluation_is_pure_and_deterministic(
    mapping: dict[str, Any], event: dict[str, Any]
) -> None:
    event_before, mapping_before = copy.deepcopy(event), copy.deepcopy(mapping)
    first = outcome(lambda: _compiled(mapping, event))
    if first[0] == "ok":
        mapper = compile_mapping(mapping)
        assert same(outcome(lambda: mapper(event)), first)
        assert same(outcome(lambda: mapper(event)), first)
    assert same(event, event_before)
    assert same(mapping, mapping_before)


TRIGGERS = st.builds(
    lambda field, op, value: f"{field} {op} {value}",
    st.sampled_from(["type", "event", "userId", "properties.a", "properties.total", "traits.n.a"]),
    st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
    st.sampled_from(['"a"', '"10"', "10", "-1.5", "true", "false", "null", '""']),
)


@SETTINGS
@given(st.lists(TRIGGERS, min_size=1, max_size=3), st.sampled_from([" and ", " or "]), events)
def test_triggers_are_pure_and_combine_as_and_or(
    parts: list[str], joiner: str, event: dict[str, Any]
) -> None:
    before = copy.deepcopy(event)
    results = [compile_trigger(part)(event) for part in parts]
    combined = compile_trigger(joiner.join(parts))(event)
    assert combined is (all(results) if joiner == " and " else any(results))
    assert same(event, before)
