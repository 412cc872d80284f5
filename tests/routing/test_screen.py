"""The router's screen answers only where the full path gives that very answer.

For every value, ``screen(value)`` is ``None`` (decode it whole) or the list that
``router.route(decode_json(value))`` returns, the same object (``NO_MATCH`` or ``TURNED_OFF``, so
the same filter reason), and then ``decode_json`` accepts the value. Values: the conformance
vectors' events, the poison set, a table of where simdjson and orjson part, SDK-shaped events,
and generated events (duplicate members, escaped keys, every kind of ``type`` and
``integrations``) with byte-level mutations. The screen must also screen: page and screen
events of the SDK shape are answered without a decode.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from _json_text import EVENTS, VALUES, json_text, mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamer import DecodeError
from streamer.config import IntegrationsConfig, SubscriptionConfig
from streamer.routing import TURNED_OFF, Router, compile_router
from streamer.routing._types import NO_MATCH
from streamer.source import decode_json
from streamer.testing import poison_values, sdk_events

CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance"

_ON_EVENT = [
    {"subscribe": 'event = "Order Completed"', "partnerAction": "trackActivity",
     "mapping": {"user_id": {"@path": "$.userId"}, "event": {"@path": "$.event"},
                 "message_id": {"@path": "$.messageId"}, "timestamp": {"@path": "$.timestamp"}}},
    {"subscribe": 'event = "Signed Up"', "partnerAction": "trackActivity",
     "mapping": {"user_id": {"@path": "$.userId"}, "event": {"@path": "$.event"},
                 "message_id": {"@path": "$.messageId"}, "timestamp": {"@path": "$.timestamp"}}},
]


def _subscriptions(specs: list[dict[str, Any]]) -> list[SubscriptionConfig]:
    return [SubscriptionConfig.model_validate(s) for s in specs]


PRESETS = compile_router(None)
IGNORING_INTEGRATIONS = compile_router(None, integrations=IntegrationsConfig(honour=False))
ON_EVENT = compile_router(_subscriptions(_ON_EVENT))
ROUTERS = (PRESETS, IGNORING_INTEGRATIONS, ON_EVENT)
SCREENS = [(router, router.value_screen()) for router in ROUTERS]


def _answer(router: Router, screen: Any, value: bytes) -> list[Any] | None:
    """The screen's answer for ``value``, checked against the full path."""
    answer = screen(value)
    if answer is not None:
        try:
            event = decode_json(value)
        except DecodeError as exc:  # pragma: no cover - the failure being tested for
            pytest.fail(f"screened {value[:80]!r}, which the full path refuses: {exc}")
        assert router.route(event) is answer, value[:200]
    return answer  # type: ignore[no-any-return]


def _check(value: bytes) -> list[list[Any] | None]:
    return [_answer(router, screen, value) for router, screen in SCREENS]


def test_a_router_that_dispatches_on_one_field_has_a_screen() -> None:
    assert all(screen is not None for _, screen in SCREENS)


@pytest.mark.parametrize("subscribe", [
    ['type = "track"', 'type = "track"'],  # the same value twice: both match
    ['type = "track"', 'event = "Signed Up"'],  # two fields
    ['type = "track"', 'type = "identify" or traits.plan = "pro"'],  # not an equality
    ['properties.total > 10'],
])
def test_other_routers_have_none(subscribe: list[str]) -> None:
    specs = [{**_ON_EVENT[0], "subscribe": s} for s in subscribe]
    assert compile_router(_subscriptions(specs)).value_screen() is None


def test_sdk_page_and_screen_events_are_screened() -> None:
    answered = 0
    for _key, event in sdk_events(3_000, mix="filter"):
        value = orjson.dumps(event)
        answers = _check(value)
        if event["type"] in ("page", "screen"):
            assert answers[0] is not None and answers[1] is NO_MATCH
            answered += 1
        else:
            assert answers[:2] == [None, None]
    assert answered > 2_500


def test_sdk_identify_and_track_events_are_decoded() -> None:
    for _key, event in sdk_events(1_000):
        assert _check(orjson.dumps(event))[:2] == [None, None]


def test_the_conformance_vectors() -> None:
    values = []
    for name in ("ortto-presets", "ortto-custom", "ortto-sdk"):
        for case in json.loads((CONFORMANCE / f"{name}.json").read_text())["cases"]:
            values += [orjson.dumps(e) for e in case["events"]]
    for name in ("transform", "fql"):
        values += [orjson.dumps(c["event"])
                   for c in json.loads((CONFORMANCE / f"{name}.json").read_text())["cases"]]
    assert len(values) > 300
    answers = [_check(v) for v in values]
    assert any(a[0] is not None for a in answers)


def test_the_poison_set_is_left_to_the_full_path() -> None:
    refused = 0
    for value in poison_values().values():
        answers = _check(value)  # each answer checked against the full path
        try:
            decode_json(value)
        except DecodeError:
            assert answers == [None, None, None]
            refused += 1
    assert refused == 4  # invalid JSON and UTF-8, too deep, not an object


# -- where simdjson and orjson part, and what only the full path can tell ----------------------

_P = b'{"type":"page","userId":"u","name":"Home",'
_OFF = b'"integrations":{"All":false}'


@pytest.mark.parametrize(("value", "presets"), [
    (_P + b'"a":1}', NO_MATCH),
    (_P + _OFF + b"}", TURNED_OFF),
    (_P + b'"integrations":{"All":false,"Ortto":true}}', NO_MATCH),
    (_P + b'"integrations":{"Ortto (Actions)":false,"Ortto":true}}', TURNED_OFF),
    (_P + b'"integrations":{"All":0}}', NO_MATCH),
    (_P + b'"integrations":[false]}', NO_MATCH),
    (_P + b'"integrations":null}', NO_MATCH),
    (_P + b'"integrations":{"All":false,"All":true}}', NO_MATCH),  # orjson keeps the last
    (b'{"userId":"u"}', NO_MATCH),  # no type at all
    (b'{"type":null}', NO_MATCH),
    (b'{"type":["track"]}', NO_MATCH),
    (b'{"type":{"track":1}}', NO_MATCH),
    (b'{"type":7}', NO_MATCH),
    (b'{"type":"Track"}', NO_MATCH),
    (b'{"type":"track "}', NO_MATCH),
    (b' \n{"type":"page"}\r\t', NO_MATCH),
    (b'{"type":"page","x":"\\ud83d\\ude00","y":"\xc3\xa9","z":1e-400}', NO_MATCH),
    # a routed type, however written: decoded and routed
    (b'{"type":"track","event":"E","userId":"u"}', None),
    (b'{"type":"tr\\u0061ck","event":"E","userId":"u"}', None),
    # named twice: orjson keeps the last (simdjson's look-up would find the first)
    (b'{"type":"page","type":"track","event":"E","userId":"u"}', None),
    (b'{"type":"page","ty\\u0070e":"track","event":"E","userId":"u"}', None),
    (b'{"type":"track","type":"page"}', NO_MATCH),
    (b'{"type":"track","ty\\u0070e":"page"}', NO_MATCH),
    (_P + b'"integrations":{},' + _OFF + b"}", TURNED_OFF),
    (_P + _OFF + b',"integrations":{}}', NO_MATCH),
    (_P + _OFF + b',"integr\\u0061tions":{}}', NO_MATCH),
    # what orjson refuses and simdjson accepts: a byte order mark
    (b"\xef\xbb\xbf" + _P + b'"a":1}', None),
    # what simdjson refuses and orjson accepts: left to orjson
    (_P + b'"n":123456789012345678901234567890}', None),
    (_P + b'"n":18446744073709551616}', None),
    (_P + b'"n":-9223372036854775809}', None),
    (_P + b'"n":' + b"[" * 1023 + b"1" + b"]" * 1023 + b"}", None),  # depth 1,024
    # deep, but within both parsers' depth: msgspec's reading stops at Python's recursion limit
    (_P + b'"n":' + b"[" * 500 + b"1" + b"]" * 500 + b"}", NO_MATCH),
    (_P + b'"n":' + b"[" * 1022 + b"1" + b"]" * 1022 + b"}", None),
    # what both refuse
    (_P + b'"n":1e400}', None),
    (_P + b'"n":' + b"[" * 1024 + b"1" + b"]" * 1024 + b"}", None),
    (_P + b'"s":"\\ud800"}', None),
    (_P + b'"s":"\xed\xa0\x80"}', None),
    (_P + b'"s":"\xf4\x90\x80\x80"}', None),
    (_P + b'"s":"\xc0\xaf"}', None),
    (_P + b'"s\xff":1}', None),
    (_P + b'"s":"\x01"}', None),
    (_P + b'"a":1}\x00', None),
    (_P + b'"a":1} x', None),
    (_P + b'"a":1}{}', None),
    (_P + b'"a":NaN}', None),
    (_P + b'"a":01}', None),
    (_P + b'"a":[1,]}', None),
    (b"[]", None), (b'"page"', None), (b"null", None), (b"", None), (b"   ", None),
])
def test_edge_values(value: bytes, presets: list[Any] | None) -> None:
    assert _check(value)[0] is presets


def test_integrations_are_not_read_when_not_honoured() -> None:
    assert _check(_P + _OFF + b"}")[1] is NO_MATCH
    assert _check(_P + b'"integrations":{},' + _OFF + b"}")[1] is NO_MATCH


def test_a_screen_on_another_field() -> None:
    assert _check(b'{"type":"track","event":"Page Viewed","userId":"u"}')[2] is NO_MATCH
    assert _check(b'{"type":"track","event":"Signed Up","userId":"u"}')[2] is None


# -- generated events ---------------------------------------------------------------------------

_TYPES = st.sampled_from(["page", "screen", "track", "identify", "group", "Track", ""]).map(
    lambda t: ("text", t)) | VALUES
_INTEGRATIONS = st.sampled_from([
    "{}", '{"All":false}', '{"All":true}', '{"Ortto":false}', '{"Ortto":true,"All":false}',
    '{"Ortto (Actions)":false}', '{"Ortto (Actions)":{},"All":false}', "null", "[]", "false",
]).map(lambda text: ("literal", text)) | VALUES
_MEMBERS = st.lists(st.one_of(
    st.tuples(st.just("type"), _TYPES),
    st.tuples(st.sampled_from(["integrations", "event"]), _INTEGRATIONS),
    st.tuples(st.sampled_from(["userId", "name", "context", "properties"]), VALUES),
), max_size=6)
_SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _escaped(text: str) -> str:
    """Keys written with escapes: ``"type"`` as ``"ty\\u0070e"``."""
    text = text.replace('"type":', '"ty\\u0070e":')
    return text.replace('"integrations":', '"integr\\u0061tions":')


@_SETTINGS
@given(_MEMBERS, st.booleans())
def test_generated_events(members: list[tuple[str, Any]], escape: bool) -> None:
    text = json_text(("object", members))
    _check((_escaped(text) if escape else text).encode())


@_SETTINGS
@given(_MEMBERS, st.data())
def test_mutated_events(members: list[tuple[str, Any]], data: st.DataObject) -> None:
    _check(mutate(json_text(("object", members)).encode(), data))


@_SETTINGS
@given(EVENTS, st.data())
def test_mutated_arbitrary_events(event: Any, data: st.DataObject) -> None:
    value = json_text(event).encode()
    _check(value)
    _check(mutate(value, data))
