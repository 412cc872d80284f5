"""``@liquid`` on python-liquid, behaving like Segment's locked-down liquidjs."""

from __future__ import annotations

from typing import Any

import pytest

from streamer.mapping import MappingError, compile_mapping

EVENT: dict[str, Any] = {
    "type": "track",
    "event": "Order Completed",
    "userId": "",
    "timestamp": "2026-11-28T10:13:00.000Z",
    "properties": {
        "name": "  Blue Shirt ",
        "price": "150",
        "total": 2.5,
        "whole": 2.0,
        "tags": ["a", 1, True, None],
        "flag": True,
        "nested": {"a": 1},
    },
    "traits": {"email": "jane@example.com", "plan": "pro"},
}


def render(template: str, event: dict[str, Any] = EVENT) -> str:
    return compile_mapping({"out": {"@liquid": template}})(event)["out"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ event | upcase }}", "ORDER COMPLETED"),
        ("{{ properties.flag }}", "true"),
        ("{{ properties.whole }}", "2"),
        ("{{ properties.nested }}", "[object Object]"),
        ("{{ properties.tags }}", "a1true"),
        ("{{ properties.tags | join: ',' }}", "a,1,true,"),
        ("{{ properties.tags | size }}", "4"),
        ("{{ properties.nested | size }}", "0"),
        ("{{ properties.price | times: 2 }}", "300"),
        ("{{ properties.total | times: 2 | round }}", "5"),
        ("{{ properties.name | strip | truncate: 5 }}", "Bl..."),
        ("{{ properties.name | strip | slice: 0, 4 }}", "Blue"),
        ("{{ traits.email | split: '@' | first }}", "jane"),
        ("{{ properties.missing | default: 'free' }}", "free"),
        (
            "{{ properties | json }}",
            '{"name":"  Blue Shirt ","price":"150","total":2.5,"whole":2,'
            '"tags":["a",1,true,null],"flag":true,"nested":{"a":1}}',
        ),
        ("{{ timestamp | date: '%Y-%m-%d %H:%M' }}", "2026-11-28 10:13"),
        ("{% unless userId %}anon{% endunless %}", ""),  # "" is truthy in Liquid
        ("{% if properties.price > 100 %}big{% else %}small{% endif %}", "big"),  # "150" > 100
        ("{% if traits.plan == 'pro' %}P{% elsif traits.plan %}O{% endif %}", "P"),
        ("{% assign x = traits.plan %}{{ x }}-{{ type }}", "pro-track"),
        ("{{ missing.value }}", ""),
        ("", ""),
    ],
)
def test_renders_like_liquidjs(template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            "{% for t in properties.tags %}{{ t }}{% endfor %}",
            'tag "for" is disabled, line:1, col:1',
        ),
        (
            "x\n  {% case type %}{% when 'a' %}A{% endcase %}",
            'tag "case" is disabled, line:2, col:3',
        ),
        ("{% include 'x' %}", 'tag "include" is disabled'),
        ("{{ properties.tags | reverse }}", 'filter "reverse" is disabled'),
        ("{{ properties.tags | map: 'a' }}", 'filter "map" is disabled'),
        ("x" * 1001, "limited to 1000 characters"),
        ("{% if %}", "@liquid"),
    ],
)
def test_what_segment_refuses_fails_when_evaluated(template: str, message: str) -> None:
    mapper = compile_mapping({"out": {"@liquid": template}})  # loading succeeds, as in Segment
    with pytest.raises(MappingError) as raised:
        mapper(EVENT)
    assert message in str(raised.value)


def test_a_template_is_parsed_once_and_reused() -> None:
    mapper = compile_mapping({"out": {"@liquid": "{{ event }}"}})
    assert [mapper({"event": name})["out"] for name in ("a", "b")] == ["a", "b"]


def test_any_event_key_is_a_variable() -> None:
    event = {"self": "S", "args": "A", "kwargs": "K", "k k": 1}
    assert render("{{ self }}{{ args }}{{ kwargs }}", event) == "SAK"
