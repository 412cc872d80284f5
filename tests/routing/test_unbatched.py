"""Batched or one at a time, as the mapping says; and the router's start-up warnings.

A mapping with ``enable_batching: false`` goes through its action's single-event path, as in
Segment: one request per event, top-level empty strings dropped before validation, and the
action's own refusals reported as delivered (nothing sent).
"""

from __future__ import annotations

from typing import Any

from streamer.actions import compile_processor, get_action, without_empty_strings
from streamer.config import SubscriptionConfig
from streamer.routing import Accepted, Rejected, Skipped, compile_router, plan_batch

MAPPING: dict[str, Any] = {
    "user_id": {"@path": "$.userId"},
    "anonymous_id": {"@path": "$.anonymousId"},
    "ip": {"@path": "$.context.ip"},
    "event": {"@path": "$.event"},
    "audience_update_mode": {"@path": "$.properties.mode"},
}


def _subs(enable_batching: bool | None, **mapping: Any) -> list[SubscriptionConfig]:
    body = {**MAPPING, **mapping}
    if enable_batching is not None:
        body["enable_batching"] = enable_batching
    return [SubscriptionConfig.model_validate({
        "name": "Orders", "subscribe": 'type = "track"', "partnerAction": "trackActivity",
        "mapping": body,
    })]


def _track(**extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "track", "userId": "u1", "anonymousId": "a1",
                             "event": "Order Completed", "context": {"ip": "1.2.3.4"},
                             "properties": {"mode": "add"}}
    event.update(extra)
    return event


def test_only_false_sends_one_at_a_time() -> None:
    assert compile_router(_subs(False)).unbatched == ("Orders",)
    assert compile_router(_subs(True)).unbatched == ()
    assert compile_router(_subs(None)).unbatched == ()  # the field's default is true
    assert compile_router(None).unbatched == ()
    router = compile_router(_subs(False))
    assert router.sends_alone(router.routes[0]) and router.max_items(router.routes[0]) == 1


def test_top_level_empty_strings_are_dropped_before_validation() -> None:
    event = _track(userId="", context={"ip": ""}, properties={"mode": ""})
    [single] = compile_router(_subs(False)).route(event)
    assert type(single) is Accepted
    assert single.item == {
        "anonymous_id": "a1", "event": "Order Completed", "enable_batching": False}
    # The batch path keeps "" for string fields, so Ajv refuses the IP and the mode.
    [batched] = compile_router(_subs(True)).route(event)
    assert type(batched) is Rejected
    assert "IP Address" in batched.message and "Audience update mode" in batched.message


def test_nested_empty_strings_stay() -> None:
    event = _track(properties={"mode": "add", "note": ""})
    [single] = compile_router(_subs(False, properties={"@path": "$.properties"})).route(event)
    assert type(single) is Accepted and single.item["properties"] == {"mode": "add", "note": ""}


def test_a_required_field_left_empty_is_missing() -> None:
    [outcome] = compile_router(_subs(False)).route(_track(event=""))
    assert type(outcome) is Rejected
    assert "missing the required field 'event'" in outcome.message


def test_the_action_s_own_refusal_is_a_skip_on_the_single_event_path() -> None:
    # Segment's perform returns the refusal as a value: nothing is sent, the event counts as
    # delivered. (The batch path refuses it.)
    [single] = compile_router(_subs(False)).route(_track(event="\ufeff"))
    assert type(single) is Skipped and "Missing event name" in single.reason
    [batched] = compile_router(_subs(True)).route(_track(event="\ufeff"))
    assert type(batched) is Rejected and batched.message == "Missing event name"
    # "\u0085" is not JavaScript whitespace: a name.
    [named] = compile_router(_subs(False)).route(_track(event="\u0085"))
    assert type(named) is Accepted


def test_one_request_per_event_in_event_order_before_the_batches() -> None:
    subs = [
        *_subs(True),
        SubscriptionConfig.model_validate({
            "name": "Contacts", "subscribe": 'type = "identify"',
            "partnerAction": "upsertContactProfile",
            "mapping": {"user_id": {"@path": "$.userId"}, "enable_batching": False},
        }),
    ]
    events = [_track(userId="t1"), {"type": "identify", "userId": "c1"}, _track(userId="t2"),
              {"type": "identify", "userId": "c2"}]
    plan = plan_batch(compile_router(subs), events)
    assert [(r.route.name, r.indexes) for r in plan.requests] == [
        ("Contacts", [1]), ("Contacts", [3]), ("Orders", [0, 2])]


def test_compile_processor_has_the_same_single_event_path() -> None:
    action = get_action("trackActivity")
    process = compile_processor(action, mapping=MAPPING, single=True)
    assert process({"user_id": "", "anonymous_id": "a1", "event": "E", "ip": ""}) == {
        "anonymous_id": "a1", "event": "E"}
    batched = compile_processor(action, mapping=MAPPING)
    assert type(batched({"user_id": "", "anonymous_id": "a1", "event": "E", "ip": ""})) is not dict


def test_without_empty_strings() -> None:
    item = {"a": "", "b": 0, "c": False, "d": None, "e": {"f": ""}, "g": [""], "h": " "}
    assert without_empty_strings(item) == {"b": 0, "c": False, "d": None, "e": {"f": ""},
                                           "g": [""], "h": " "}
    clean = {"a": "x"}
    assert without_empty_strings(clean) is clean
    assert item["a"] == ""  # never modified


def test_an_empty_literal_is_accepted_and_warned_about_on_the_batch_path() -> None:
    batched = compile_router(_subs(True, audience_update_mode=""))
    (warning,) = batched.warnings
    assert warning.startswith("subscriptions.0 ('Orders'): mapping: audience_update_mode:")
    assert "refuses every event" in warning
    [outcome] = batched.route(_track())
    assert type(outcome) is Rejected and "Audience update mode" in outcome.message
    single = compile_router(_subs(False, audience_update_mode=""))
    assert single.warnings == ()
    [accepted] = single.route(_track())
    assert type(accepted) is Accepted and "audience_update_mode" not in accepted.item


def test_trigger_warnings_name_their_subscription() -> None:
    subs = [SubscriptionConfig.model_validate({
        "name": "Odd", "subscribe": 'type = "track" and traits.x frobnicates "y"',
        "partnerAction": "trackActivity", "mapping": MAPPING,
    })]
    router = compile_router(subs)
    (warning,) = router.warnings
    assert warning.startswith("subscriptions.0 ('Odd'): trigger: 'frobnicates'")
    assert router.route(_track()) == []
    assert compile_router(None).warnings == ()
