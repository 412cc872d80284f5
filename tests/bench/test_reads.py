"""The paths compiled subscriptions read: what a projected decode must keep of an event."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# The experiment lives with the benchmarks (bench/projection), not in the product.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from projection.reads import event_reads, paths_of

from streamer.config import IntegrationsConfig, SubscriptionConfig


def _subs(*pairs: tuple[str, dict[str, Any]], enabled: bool = True) -> list[SubscriptionConfig]:
    return [
        SubscriptionConfig.model_validate({
            "subscribe": trigger, "partnerAction": "trackActivity", "mapping": mapping,
            "enabled": enabled,
        })
        for trigger, mapping in pairs
    ]


def _paths(*pairs: tuple[str, dict[str, Any]]) -> list[str]:
    return paths_of(event_reads(_subs(*pairs)))


def test_the_presets_read_a_few_paths_and_the_pipeline_adds_its_own() -> None:
    assert paths_of(event_reads(None)) == [
        "anonymousId", "context.app.namespace", "context.ip", "context.traits", "event",
        "integrations", "messageId", "properties", "timestamp", "traits", "type", "userId",
    ]


def test_trigger_fields_are_read_with_their_nested_paths() -> None:
    paths = _paths(('type = "track" and properties.cart.total > 10 or context.page.url '
                    'contains "x" or match(traits.email, "*@x.com")', {}))
    assert paths == ["context.page.url", "integrations", "messageId", "properties.cart.total",
                     "traits.email", "type"]


def test_mapping_paths_through_directives() -> None:
    mapping = {
        "a": {"@path": "$.properties.items[0].sku"},
        "b": {"@template": "{{traits.first}} {{ $.traits.last }}"},
        "c": {"@if": {"exists": {"@path": "$.context.ip"}, "then": "x",
                      "else": {"@case": {"operator": "lower", "value": {"@path": "$.event"}}}}},
        "d": {"@arrayPath": ["$.properties.products", {"id": {"@path": "$.product_id"}}]},
        "e": {"@literal": {"@path": "$.never"}},
        "f": [{"@json": {"mode": "encode", "value": {"@path": "$.context.locale"}}}],
        "g": {"@merge": {"direction": "right", "objects": [{"@path": "$.context.campaign"}]}},
    }
    assert _paths(('event = "x"', mapping)) == [
        "$.traits.last", "context.campaign", "context.ip", "context.locale", "event",
        "integrations", "messageId", "properties.items.0.sku", "properties.products",
        "traits.first",
    ]


def test_a_path_read_whole_swallows_the_longer_ones_whichever_comes_first() -> None:
    first = _paths(('type = "x"', {"a": {"@path": "$.traits.email"}, "b": {"@path": "$.traits"}}))
    second = _paths(('type = "x"', {"b": {"@path": "$.traits"}, "a": {"@path": "$.traits.a"}}))
    assert "traits" in first and "traits" in second
    assert not any(p.startswith("traits.") for p in first + second)


@pytest.mark.parametrize("mapping", [
    {"all": {"@path": "$."}},
    {"all": {"@path": ""}},
    {"computed": {"@path": {"@template": "$.{{type}}"}}},
    {"liquid": {"@liquid": "{{ properties | json }}"}},
    {"t": {"@transform": {"apply": {"a": {"@path": "$.a"}}, "mapping": {"x": {"@path": "$.a"}}}}},
    {"triple": {"@template": "{{{traits.html}}}"}},
    {"whole": {"@template": "{{ }}"}},
    {"unknown": {"@frobnicate": "$.a"}},
    {"array": {"@arrayPath": [{"@path": "$.a"}, {}]}},
])
def test_what_cannot_be_bounded_reads_the_whole_event(mapping: dict[str, Any]) -> None:
    assert event_reads(_subs(('type = "track"', mapping))) is None


def test_disabled_subscriptions_read_nothing() -> None:
    subs = _subs(('type = "x"', {"all": {"@path": "$."}}), enabled=False)
    assert paths_of(event_reads(subs)) == ["integrations", "messageId"]


def test_integrations_are_not_read_when_they_are_ignored() -> None:
    reads = event_reads(_subs(('type = "x"', {})), IntegrationsConfig(honour=False))
    assert paths_of(reads) == ["messageId", "type"]
