"""The ``integrations`` object: which events it keeps from this destination, in each form."""

from __future__ import annotations

from typing import Any

import pytest

from streamer.config import IntegrationsConfig, OrttoConfig, SubscriptionConfig
from streamer.routing import TURNED_OFF, Accepted, compile_router, integrations_check, plan_batch


def _identify(integrations: Any = None, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "identify", "userId": "u1", "traits": {"email": "a@b.c"}}
    if integrations is not None:
        event["integrations"] = integrations
    event.update(extra)
    return event


@pytest.mark.parametrize(
    ("integrations", "off"),
    [
        # The destination's own key decides when present: only the boolean false turns it off.
        ({"Ortto (Actions)": False}, True),
        ({"Ortto": False}, True),
        ({"Ortto (Actions)": True}, False),
        ({"Ortto (Actions)": {"some": "option"}}, False),
        ({"Ortto (Actions)": {}}, False),
        ({"Ortto (Actions)": "false"}, False),
        ({"Ortto (Actions)": 0}, False),
        ({"Ortto (Actions)": None}, False),
        # ... even against All.
        ({"All": False, "Ortto (Actions)": True}, False),
        ({"All": False, "Ortto": {}}, False),
        ({"All": True, "Ortto (Actions)": False}, True),
        # The first name present decides.
        ({"Ortto (Actions)": True, "Ortto": False}, False),
        ({"Ortto (Actions)": False, "Ortto": True}, True),
        # Otherwise All: false turns off every destination not named.
        ({"All": False}, True),
        ({"All": False, "Mixpanel": True}, True),
        ({"All": True}, False),
        ({"All": 0}, False),
        ({"All": "false"}, False),
        ({"All": None}, False),
        # Keys are compared exactly.
        ({"ortto": False}, False),
        ({"Ortto (actions)": False}, False),
        ({" Ortto": False}, False),
        ({"all": False}, False),
        # Otherwise on; an integrations value that is not an object names nothing.
        ({}, False),
        ({"Mixpanel": False}, False),
        ([], False),
        ("Ortto", False),
        (False, False),
    ],
)
def test_each_form(integrations: Any, off: bool) -> None:
    check = integrations_check(None)
    assert check is not None
    assert check(integrations) is off
    router = compile_router(None)
    outcomes = router.route(_identify(integrations))
    if off:
        assert outcomes == [] and outcomes is TURNED_OFF
    else:
        [outcome] = outcomes
        assert type(outcome) is Accepted


def test_an_event_without_integrations_is_delivered() -> None:
    [outcome] = compile_router(None).route(_identify())
    assert type(outcome) is Accepted
    assert compile_router(None).route({"type": "page", "integrations": {"All": False}}) == []


def test_the_names_are_configurable() -> None:
    config = IntegrationsConfig(names=["My Ortto"])
    router = compile_router(None, integrations=config)
    assert router.route(_identify({"My Ortto": False})) is TURNED_OFF
    assert router.route(_identify({"Ortto (Actions)": False})) != []
    assert router.route(_identify({"All": False})) is TURNED_OFF
    assert router.route(_identify({"All": False, "My Ortto": True})) != []


def test_honour_false_ignores_the_object() -> None:
    config = IntegrationsConfig(honour=False)
    assert integrations_check(config) is None
    router = compile_router(None, integrations=config)
    [outcome] = router.route(_identify({"Ortto (Actions)": False, "All": False}))
    assert type(outcome) is Accepted


def test_the_check_comes_before_any_trigger() -> None:
    # Custom, non-exclusive triggers take the general route function: the same rule applies.
    subs = [
        SubscriptionConfig.model_validate({
            "trigger": 'type = "identify" or userId = "u1"', "action": "upsertContactProfile",
            "mapping": {"user_id": {"@path": "$.userId"}},
        }),
        SubscriptionConfig.model_validate({
            "trigger": 'traits.email contains "@"', "action": "upsertContactProfile",
            "mapping": {"user_id": {"@path": "$.userId"}},
        }),
    ]
    router = compile_router(subs)
    assert len(router.route(_identify())) == 2
    assert router.route(_identify({"Ortto": False})) is TURNED_OFF


def test_the_plan_says_why_an_event_is_filtered() -> None:
    events = [_identify(), {"type": "page"}, _identify({"All": False}), _identify({"Ortto": True})]
    plan = plan_batch(compile_router(None), events)
    assert plan.filtered == [1, 2]
    assert plan.turned_off == [2]
    assert [plan.filtered_reason(i) for i in range(4)] == [
        None, "no_subscription", "integrations", None]
    assert [len(r.body) for r in plan.requests] == [2]


def test_the_configuration_defaults_and_checks() -> None:
    ortto = OrttoConfig.model_validate({"api_key": "pau-x"})
    assert ortto.integrations.names == ["Ortto (Actions)", "Ortto"]
    assert ortto.integrations.honour is True
    with pytest.raises(ValueError, match="names"):
        OrttoConfig.model_validate({"api_key": "pau-x", "integrations": {"names": [" "]}})
    with pytest.raises(ValueError, match="names"):
        OrttoConfig.model_validate({"api_key": "pau-x", "integrations": {"names": []}})
    with pytest.raises(ValueError, match="honor"):
        OrttoConfig.model_validate({"api_key": "pau-x", "integrations": {"honor": False}})
