"""The generated per-route step agrees with the composed one on generated events.

A ``dict`` event takes the generated step (mapping, checks and outcome in one function); the
same event behind a read-only ``Mapping`` takes the composed step (the mapping's closures, the
item check, then the action's rules). Their outcomes must be equal, and neither may touch the
event.
"""

from __future__ import annotations

import copy
from types import MappingProxyType
from typing import Any

import pytest
from _routing_events import events
from hypothesis import HealthCheck, given, settings

from streamer.actions import _scan, presets
from streamer.config import SubscriptionConfig
from streamer.routing import Outcome, compile_router

_CUSTOM: list[dict[str, Any]] = [
    {"partnerAction": "trackActivity", "subscribe": 'type = "track"', "mapping": {
        "user_id": {"@path": "$.userId"}, "event": {"@template": "{{event}}!"},
        "enable_batching": "true", "batch_size": "250", "audience_update_mode": "remove",
        "ip": None, "location": {"@path": "$.context.traits.address"},
        "properties": {"@if": {"exists": {"@path": "$.properties"},
                               "then": {"@path": "$.properties"}, "else": {"a": 1}}},
    }},
    {"partnerAction": "upsertContactProfile", "subscribe": "type = \"identify\"", "mapping": {
        "anonymous_id": {"@path": "$.anonymousId"}, "location": {"city": "Paris"},
        "traits": {"@path": "$.traits.address"}, "timestamp": {"@path": "$.timestamp"},
        "message_id": {"@if": {"exists": {"@path": "$.nothing"}, "then": "x"}},
    }},
    {"partnerAction": "upsertContactProfile", "subscribe": 'type != "track"', "mapping": {
        "user_id": {"@path": "$.userId"}, "ip": {"@path": "$.context.ip"},
        "location": {"country": {"@path": "$.traits.address.country"}, "city": None},
    }},
]
_SUBSCRIPTIONS = [
    *(SubscriptionConfig.model_validate(p.as_subscription()) for p in presets()),
    *(SubscriptionConfig.model_validate(s) for s in _CUSTOM),
]
_ROUTER = compile_router(_SUBSCRIPTIONS, native_steps=False)
# The generated code calls the compiled empty-key scan, or writes its first level inline when
# the scan is plain Python: the other flavour than this build's is generated and checked too.
with pytest.MonkeyPatch.context() as patch:
    patch.setattr("streamer.actions._specialise.COMPILED", not _scan.COMPILED)
    _OTHER_FLAVOUR = compile_router(_SUBSCRIPTIONS, native_steps=False)


def test_real_mappings_get_a_generated_step() -> None:
    route = _ROUTER.route
    steps = [route.__globals__[f"s{n}"] for n in range(len(_SUBSCRIPTIONS))]
    assert all(step.__code__.co_filename.startswith("<route ") for step in steps)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events)
def test_generated_step_agrees_with_the_composed_one(event: dict[str, Any]) -> None:
    before = copy.deepcopy(event)
    generated = _ROUTER.route(event)
    composed = _ROUTER.route(MappingProxyType(event))
    assert generated == composed
    assert _plain(_OTHER_FLAVOUR.route(event)) == _plain(composed)
    assert event == before


def _plain(outcomes: list[Outcome]) -> list[tuple[Any, ...]]:
    # Routes compare by identity, and the other flavour's router has its own.
    return [(type(o).__name__, o.route.index, *o[1:]) for o in outcomes]
