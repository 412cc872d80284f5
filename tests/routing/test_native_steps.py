"""The presets' steps and router compiled ahead of time: current, used only for their own
source, and the same outcomes as the interpreted code they are rendered from.

``_native_steps.py`` is generated (``./dev regen``) from the generator's output for the presets;
a compiled build runs those classes in place of the generated source, keyed by that source and
by which scans its names are bound to. Everything else (another mapping, an audience, another
flavour of the scans) runs interpreted. The outcomes are compared on generated events (the
strategy of ``test_fused.py``), the conformance vectors' events, the poison set and SDK-shaped
events, each through both routers, and neither may touch the event.
"""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from _routing_events import events
from hypothesis import HealthCheck, given, settings

from streamer.actions import _scan
from streamer.config import SubscriptionConfig
from streamer.routing import Accepted, Outcome, _native, _native_steps, compile_router
from streamer.testing import poison_values, sdk_events

CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance"
NATIVE = compile_router(None)
INTERPRETED = compile_router(None, native_steps=False)

compiled_only = pytest.mark.skipif(
    not _native_steps.COMPILED, reason="a plain-Python build runs every step interpreted")


def _view(outcomes: list[Outcome]) -> list[tuple[Any, ...]]:
    # Each router has its own Route objects: compare their names, and items as sent.
    return [
        (type(o).__name__, o.route.name,
         orjson.dumps(o.item) if type(o) is Accepted else o[1:])
        for o in outcomes
    ]


def _same(event: Any) -> None:
    before = copy.deepcopy(event)
    native = NATIVE.route(event)
    assert _view(native) == _view(INTERPRETED.route(event))
    assert event == before


@pytest.mark.skipif(not _scan.COMPILED, reason="rendered from a compiled build's source")
def test_the_committed_rendering_is_what_the_generator_writes() -> None:
    committed = Path(_native.__file__).with_name("_native_steps.py").read_text()
    assert committed == _native.render_module(_native.preset_steps()), (
        "streamer/routing/_native_steps.py is stale: the generator writes other steps now; "
        "run ./dev regen")


@compiled_only
def test_a_compiled_build_runs_the_presets_steps_compiled() -> None:
    kinds = {type(step) for _, _, _, step in NATIVE._steps} | {type(NATIVE.route)}
    assert kinds == set(_native_steps.STEPS.values())
    assert len(kinds) == 3  # Upsert Contact, Track Activity, their router
    assert all(type(step).__name__ == "function" for _, _, _, step in INTERPRETED._steps)
    assert type(INTERPRETED.route).__name__ == "function"
    assert NATIVE.compiled_routes == ("Upsert Contact", "Track Activity")
    assert INTERPRETED.compiled_routes == ()


def test_other_mappings_and_audiences_run_interpreted() -> None:
    from streamer.actions import presets

    subs = [SubscriptionConfig.model_validate(p.as_subscription()) for p in presets()]
    changed = subs[0].model_copy(update={"mapping": {**subs[0].mapping, "ip": None}})
    router = compile_router([changed, subs[1]])
    kinds = [type(step).__name__ for _, _, _, step in router._steps]
    assert kinds[0] == "function"
    assert subs[0].name not in router.compiled_routes
    # The router's function reads its steps from its namespace: with the same triggers it is the
    # presets' router, whichever steps it calls.
    assert _view(router.route({"type": "track", "userId": "u", "event": "E"})) == _view(
        INTERPRETED.route({"type": "track", "userId": "u", "event": "E"}))
    audience = subs[0].model_copy(update={"audience": "VIPs"})
    bound = compile_router([audience], audience_ids={"VIPs": "aud-1"})
    assert [type(s).__name__ for _, _, _, s in bound._steps] == ["function"]


def test_the_key_names_the_source_and_the_scans_it_calls() -> None:
    source, namespace = _native.preset_steps()[0][1:] if _scan.COMPILED else _a_step()
    key = _native.step_key(source, namespace)
    assert _native.step_key(source + "\n", namespace) != key
    # The same source with a name bound to something else than the scan it was rendered with
    # is another step: it must not run the rendering that calls the scan natively.
    scans = [n for n, v in namespace.items() if v is _scan.has_empty_key]  # a step's
    assert scans
    rebound = {**namespace, scans[0]: lambda value: False}
    assert _native.step_key(source, rebound) != key
    assert _native.native_step(source, rebound) is None


def _a_step() -> tuple[str, dict[str, Any]]:
    # A plain-Python build: any generated step has the same kind of key.
    step = INTERPRETED._steps[0][3]
    namespace: dict[str, Any] = step.__globals__  # type: ignore[attr-defined]
    return namespace[_native.SOURCE], namespace


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events)
def test_generated_events_route_the_same(event: dict[str, Any]) -> None:
    _same(event)


def _rendered_as_python() -> list[tuple[Any, Any]]:
    """Each preset's interpreted step, and their router, beside its rendering run as plain
    Python."""
    module: dict[str, Any] = {"__name__": "streamer.routing._rendered",
                              "__package__": "streamer.routing", "__file__": "<rendered>.py"}
    pairs = []
    steps = _native.preset_steps() if _scan.COMPILED else []
    exec(compile(_native.render_module(steps), "<rendered>", "exec"), module)
    for _, source, namespace in steps:
        kind = module["STEPS"][_native.step_key(source, namespace)]
        (function,) = ast.parse(source).body
        assert isinstance(function, ast.FunctionDef)
        pairs.append((namespace[function.name], kind(namespace)))
    return pairs


RENDERED = _rendered_as_python()


@pytest.mark.skipif(not _scan.COMPILED, reason="rendered from a compiled build's source")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events)
def test_the_rendering_run_as_python_agrees_with_its_source(event: dict[str, Any]) -> None:
    # The rendering alone, without mypyc: what the renderer changes must change nothing.
    for interpreted, rendered in RENDERED:
        before = copy.deepcopy(event)
        got, expected = rendered(event), interpreted(event)
        if type(expected) is not list:  # a step: one outcome (the router: a list)
            got, expected = [got], [expected]
        assert _view(got) == _view(expected)
        assert event == before


def test_the_conformance_and_sdk_events_route_the_same() -> None:
    cases = 0
    for name in ("ortto-presets", "ortto-custom", "ortto-sdk"):
        for case in json.loads((CONFORMANCE / f"{name}.json").read_text())["cases"]:
            for event in case["events"]:
                _same(event)
                cases += 1
    for name in ("transform", "fql"):
        for case in json.loads((CONFORMANCE / f"{name}.json").read_text())["cases"]:
            _same(case["event"])
            cases += 1
    assert cases > 300
    for mix in ("identify_track", "filter"):
        for _key, event in sdk_events(2000, seed=11, mix=mix):
            _same(orjson.loads(orjson.dumps(event)))


def test_the_poison_set_routes_the_same() -> None:
    for value in poison_values().values():
        try:
            event = orjson.loads(value) if value is not None else None
        except orjson.JSONDecodeError:
            continue
        if isinstance(event, dict):
            _same(event)
