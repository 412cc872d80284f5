"""The router: compile-time checks (all problems together) and per-event outcomes."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from streamer import ConfigError, MappingError
from streamer.config import SubscriptionConfig
from streamer.mapping import field_equality
from streamer.routing import (
    TURNED_OFF,
    Accepted,
    Rejected,
    Route,
    Skipped,
    compile_router,
    config_hash,
)
from streamer.routing._types import NO_MATCH


def sub(**fields: Any) -> SubscriptionConfig:
    return SubscriptionConfig.model_validate(fields)


def identify(**extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "identify", "messageId": "m-1", "timestamp": "2026-11-28T10:07:00.000Z",
        "userId": "u1", "traits": {"email": "a@example.com", "address": {"city": "Paris"}},
        "context": {"ip": "1.2.3.4", "app": {"namespace": "com.example.app"}},
    }
    event.update(extra)
    return event


def track(**extra: Any) -> dict[str, Any]:
    event = identify(type="track", event="Signed Up", properties={"plan": "pro"})
    del event["traits"]
    event.update(extra)
    return event


SIMPLE_TRACK = {
    "user_id": {"@path": "$.userId"},
    "event": {"@path": "$.event"},
    "audience_update_mode": "add",
}


def test_presets_when_no_subscriptions_are_configured() -> None:
    router = compile_router(None)
    assert [(r.index, r.name, r.action, r.path) for r in router.routes] == [
        (0, "Upsert Contact", "upsertContactProfile", "/identify"),
        (1, "Track Activity", "trackActivity", "/track"),
    ]
    assert router.audience_names == ()
    assert all(re.fullmatch(r"[0-9a-f]{12}", r.config_hash) for r in router.routes)
    assert router.routes[0].config_hash != router.routes[1].config_hash


def test_preset_items() -> None:
    router = compile_router(None)
    [contact] = router.route(identify())
    assert type(contact) is Accepted and contact.route is router.routes[0]
    assert contact.item == {
        "timestamp": "2026-11-28T10:07:00.000Z", "message_id": "m-1", "user_id": "u1",
        "enable_batching": True, "ip": "1.2.3.4", "location": {"city": "Paris"},
        "traits": {"email": "a@example.com", "address": {"city": "Paris"}},
        "audience_update_mode": "add", "batch_size": 500,
    }
    [activity] = router.route(track())
    assert type(activity) is Accepted and activity.route is router.routes[1]
    assert activity.item["event"] == "Signed Up"
    assert activity.item["namespace"] == "com.example.app"
    assert activity.item["properties"] == {"plan": "pro"}


def test_filtered_skipped_and_rejected() -> None:
    router = compile_router(None)
    assert router.route({"type": "page", "name": "Home"}) == []
    # The filter path makes no list: every unmatched event gets the same empty one, which is
    # not TURNED_OFF (why the event was filtered stays known).
    unmatched = [router.route({"type": kind}) for kind in ("page", "screen", 7)]
    assert all(o is NO_MATCH for o in unmatched) and NO_MATCH == [] and NO_MATCH is not TURNED_OFF
    [skipped] = router.route(track(context={"app": {"namespace": "ortto.com"}}))
    assert type(skipped) is Skipped and "ortto.com" in skipped.reason
    [rejected] = router.route(track(context={"ip": "::1"}))
    assert rejected == Rejected(
        router.routes[1], 400, "IP Address must be a valid IPv4 address string but it was not."
    )
    [blank] = router.route(track(event="  "))
    assert type(blank) is Rejected and blank.message == "Missing event name"


def test_one_outcome_per_matching_subscription_in_order() -> None:
    router = compile_router([
        sub(name="all tracks", subscribe='type = "track"', partnerAction="trackActivity",
            mapping=SIMPLE_TRACK),
        sub(name="contacts", subscribe='type = "identify"', partnerAction="upsertContactProfile",
            mapping={"user_id": {"@path": "$.userId"}}),
        sub(name="sign-ups as contacts", subscribe='event = "Signed Up"',
            partnerAction="upsertContactProfile", mapping={"user_id": {"@path": "$.userId"}}),
    ])
    outcomes = router.route(track())
    assert [o.route.name for o in outcomes] == ["all tracks", "sign-ups as contacts"]
    assert [o.route.index for o in outcomes] == [0, 2]
    assert outcomes[1] == Accepted(router.routes[2], {"user_id": "u1"})


_USER = {"user_id": {"@path": "$.userId"}}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (track(), ["tracks", "tracks again", "track or page", "sign-ups", "tracks in a group"]),
        (identify(), ["contacts"]),
        (track(type=["track"]), ["sign-ups"]),  # `=` needs a string: a list equals nothing
        (track(type=None), ["sign-ups"]),
        (track(event=1), ["tracks", "tracks again", "track or page", "tracks in a group"]),
        ({"userId": "u1"}, []),
    ],
)
def test_equality_triggers_read_their_field_once_and_keep_segment_rules(
    event: dict[str, Any], expected: list[str]
) -> None:
    # Triggers of the form `field = "value"` share one read of the field in the generated
    # router; the others are called as compiled. Both kinds must keep the configured order.
    router = compile_router([
        sub(name="tracks", subscribe='type = "track"', partnerAction="trackActivity",
            mapping=SIMPLE_TRACK),
        sub(name="contacts", subscribe='type = "identify"', partnerAction="upsertContactProfile",
            mapping=_USER),
        sub(name="tracks again", subscribe='type = "track"', partnerAction="upsertContactProfile",
            mapping=_USER),
        sub(name="track or page", subscribe='type = "track" or type = "page"',
            partnerAction="upsertContactProfile", mapping=_USER),
        sub(name="sign-ups", subscribe='event = "Signed Up"', partnerAction="upsertContactProfile",
            mapping=_USER),
        sub(name="tracks in a group", subscribe='(type = "track")',
            partnerAction="upsertContactProfile", mapping=_USER),
    ])
    assert [o.route.name for o in router.route(event)] == expected


@pytest.mark.parametrize("kinds", [["identify", "track"],
                                   ["identify", "track", "page", "screen", "group", "alias"]])
def test_exclusive_equality_triggers_route_each_event_to_its_one_subscription(
    kinds: list[str],
) -> None:
    # One field, distinct values (the presets' shape): the router dispatches on the value.
    router = compile_router([
        sub(name=kind, subscribe=f'type = "{kind}"', partnerAction="upsertContactProfile",
            mapping=_USER)
        for kind in kinds
    ])
    for kind in kinds:
        assert [o.route.name for o in router.route(identify(type=kind))] == [kind]
    for odd in ("Track", "", None, 1, ["track"], {"track": 1}):
        assert router.route(identify(type=odd)) == []
    assert router.route({"userId": "u1"}) == []
    first, second = router.route(identify()), router.route(identify())
    assert first == second and first is not second  # a new list for every event


def test_the_same_value_twice_gives_two_outcomes() -> None:
    router = compile_router([
        sub(name=name, subscribe='type = "identify"', partnerAction="upsertContactProfile",
            mapping=_USER)
        for name in ("one", "two")
    ])
    assert [o.route.name for o in router.route(identify())] == ["one", "two"]


def test_field_equality_recognises_only_top_level_string_equality() -> None:
    assert field_equality('type = "track"') == ("type", "track")
    assert field_equality('(event = "Signed Up")') == ("event", "Signed Up")
    for text in ('type != "track"', 'properties.plan = "pro"', 'type = "a" or type = "b"',
                 "properties.total > 5", "type != null"):
        assert field_equality(text) is None, text
    with pytest.raises(MappingError):
        field_equality('type = "track" and')


def test_a_given_mapping_is_used_exactly_as_written() -> None:
    router = compile_router([
        sub(subscribe='type = "track"', partnerAction="trackActivity",
            mapping={"event": {"@path": "$.event"}, "anonymous_id": {"@path": "$.userId"}}),
    ])
    [outcome] = router.route(track())
    assert outcome == Accepted(router.routes[0], {"event": "Signed Up", "anonymous_id": "u1"})
    assert router.routes[0].name == "subscriptions.0"


def test_disabled_subscriptions_are_skipped_but_keep_their_index() -> None:
    router = compile_router([
        sub(subscribe="bad (", partnerAction="nope", enabled=False),
        sub(name="t", subscribe='type = "track"', partnerAction="trackActivity",
            mapping=SIMPLE_TRACK),
    ])
    assert [(r.index, r.name) for r in router.routes] == [(1, "t")]


def test_all_problems_are_reported_together_naming_their_subscription() -> None:
    with pytest.raises(ConfigError) as caught:
        compile_router([
            sub(name="broken trigger", subscribe='type = "track" and (',
                partnerAction="trackActivity", mapping=SIMPLE_TRACK),
            sub(subscribe='type = "track"', partnerAction="sendCarrierPigeon", mapping={}),
            sub(name="bad mapping", subscribe='type = "track"', partnerAction="trackActivity",
                mapping={"event": {"@path": 42}}),
            sub(name="typo", subscribe='type = "track"', partnerAction="trackActivity",
                mapping={"evnet": {"@path": "$.event"}}),
            sub(name="bad literal", subscribe='type = "identify"',
                partnerAction="upsertContactProfile",
                mapping={"user_id": {"@path": "$.userId"}, "audience_update_mode": "both"}),
            sub(name="blank audience", subscribe='type = "identify"',
                partnerAction="upsertContactProfile", mapping={}, audience="  "),
            sub(name="zip", subscribe='type = "identify"', partnerAction="upsertContactProfile",
                mapping={"location": {"zip": {"@path": "$.traits.zip"}}}),
        ])
    problems = caught.value.problems
    assert len(problems) == 7, problems
    assert problems[0].startswith("subscriptions.0 ('broken trigger'): trigger")
    assert problems[1].startswith("subscriptions.1: unknown action 'sendCarrierPigeon'")
    assert problems[2].startswith("subscriptions.2 ('bad mapping'): mapping")
    assert problems[3].startswith("subscriptions.3 ('typo'): mapping: 'evnet' is not a field")
    assert problems[4] == (
        "subscriptions.4 ('bad literal'): mapping: audience_update_mode: "
        'Audience update mode must be one of: "add" or "remove".'
    )
    assert problems[5].startswith("subscriptions.5 ('blank audience'): audience")
    assert problems[6] == (
        "subscriptions.6 ('zip'): mapping: location: 'zip' is not one of country, state, city, "
        "post_code"
    )
    assert all(p in str(caught.value) for p in problems)


def test_at_most_fifty_subscriptions() -> None:
    many = [sub(subscribe='type = "track"', partnerAction="trackActivity", mapping=SIMPLE_TRACK)
            for _ in range(51)]
    with pytest.raises(ConfigError) as caught:
        compile_router(many)
    assert any("at most 50" in p for p in caught.value.problems)
    assert len(compile_router(many[:50]).routes) == 50


def test_audiences_are_resolved_once_and_attached() -> None:
    subs = [
        sub(name="vip", subscribe='type = "identify"', partnerAction="upsertContactProfile",
            mapping={"user_id": {"@path": "$.userId"}, "audience_update_mode": "add"},
            audience=" VIP "),
        sub(name="vip leavers", subscribe='type = "track"', partnerAction="trackActivity",
            mapping={**SIMPLE_TRACK, "audience_update_mode": "remove"}, audience="VIP"),
        sub(name="plain", subscribe='type = "identify"', partnerAction="upsertContactProfile",
            mapping={"user_id": {"@path": "$.userId"}}),
    ]
    unresolved = compile_router(subs)
    assert unresolved.audience_names == ("VIP",)
    assert [r.audience for r in unresolved.routes] == ["VIP", "VIP", None]
    with pytest.raises(RuntimeError, match="audience_ids"):
        unresolved.route(identify())

    router = compile_router(subs, audience_ids={"VIP": "aud-42"})
    joined, plain = router.route(identify())
    assert type(joined) is Accepted and joined.item == {
        "user_id": "u1", "audience_update_mode": "add",
        "audience": {"mode": "add", "id": "aud-42"}}
    assert type(plain) is Accepted and plain.item == {"user_id": "u1"}
    [left] = router.route(track())
    assert type(left) is Accepted and left.item["audience"] == {"mode": "remove", "id": "aud-42"}

    with pytest.raises(ConfigError) as caught:
        compile_router(subs, audience_ids={"Other": "x"})
    assert caught.value.problems == [
        "subscriptions.0 ('vip'): audience 'VIP': no id was resolved for it",
        "subscriptions.1 ('vip leavers'): audience 'VIP': no id was resolved for it",
    ]


def test_mapping_errors_at_evaluation_become_rejections() -> None:
    # Segment loads a disabled Liquid tag and fails when it evaluates it.
    router = compile_router([
        sub(name="liquid", subscribe='type = "track"', partnerAction="trackActivity",
            mapping={**SIMPLE_TRACK, "properties": {
                "tags": {"@liquid": "{% for t in properties.tags %}{{ t }}{% endfor %}"}}}),
        sub(name="fine", subscribe='type = "track"', partnerAction="trackActivity",
            mapping=SIMPLE_TRACK),
    ])
    failed, fine = router.route(track(properties={"tags": ["a", "b"]}))
    assert type(failed) is Rejected and failed.status == 400
    assert failed.message.startswith("mapping failed: ") and "for" in failed.message
    assert type(fine) is Accepted  # one route's failure leaves the others alone


def test_route_leaves_the_event_untouched() -> None:
    router = compile_router(None)
    event = track(properties={"": 1, "nested": {"": 2}}, userId=5, context={"ip": None})
    before = copy.deepcopy(event)
    [outcome] = router.route(event)
    assert event == before
    assert type(outcome) is Accepted
    assert outcome.item["user_id"] == "5"
    assert outcome.item["properties"] == {"nested": {}}


def test_batch_limits_follow_the_mapping() -> None:
    router = compile_router([
        sub(subscribe='type = "track"', partnerAction="trackActivity",
            mapping={**SIMPLE_TRACK, "enable_batching": False}),
        sub(subscribe='type = "track"', partnerAction="trackActivity",
            mapping={**SIMPLE_TRACK, "batch_size": 100}),
        sub(subscribe='type = "track"', partnerAction="trackActivity", mapping=SIMPLE_TRACK),
    ])
    assert [router.max_items(r) for r in router.routes] == [1, 100, 500]


def test_config_hash_is_stable_and_sensitive() -> None:
    a = sub(name="a", subscribe='type = "track"', partnerAction="trackActivity",
            mapping=SIMPLE_TRACK)
    same = sub(name="a", subscribe='type = "track"', partnerAction="trackActivity",
               mapping=dict(reversed(list(SIMPLE_TRACK.items()))))
    other = sub(name="a", subscribe='type = "track"', partnerAction="trackActivity",
                mapping={**SIMPLE_TRACK, "audience_update_mode": "remove"})
    assert config_hash(a) == config_hash(same) != config_hash(other)
    assert isinstance(compile_router([a]).routes[0], Route)
