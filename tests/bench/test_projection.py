"""The projected decoder routes every value as the full decoder does: same items, same rejects.

Each value goes through ``route(full_decode(value))`` and ``route(projected_decode(value))``
with the real router; the two answers are compared as the dispatcher would use them (the
serialised items, rejections with status and message, skips, the filter reason, the message id
of dead letters, the decode reason and message). Values: the conformance vectors' events, the
poison set, a table of the cases where msgspec alone and orjson part (each guard's reason),
and generated events (random nesting, unicode, big and odd numbers, duplicate keys) with
byte-level mutations (truncation, invalid UTF-8 and bad escapes inside skipped fields, a BOM,
trailing bytes).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# The experiment lives with the benchmarks (bench/projection), not in the product; the generated
# JSON text is shared with the router's screen (tests/routing/_json_text.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "routing"))

from _json_text import EVENTS, EVIL, json_text, mutate
from projection.decoder import _typed, projected_decoder
from projection.reads import event_reads

from streamer import DecodeError
from streamer.config import SubscriptionConfig
from streamer.routing import TURNED_OFF, Accepted, Rejected, Router, compile_router
from streamer.source import decode_json
from streamer.testing import poison_values

CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance"

_WIDE = [
    {"subscribe": 'type = "track" and properties.total > 10 or context.page.url contains "x"',
     "partnerAction": "trackActivity",
     "mapping": {
         "user_id": {"@path": "$.userId"}, "anonymous_id": {"@path": "$.anonymousId"},
         "timestamp": {"@path": "$.timestamp"}, "message_id": {"@path": "$.messageId"},
         "event": {"@template": "{{event}} from {{context.page.url}}"},
         "ip": {"@path": "$.context.ip"},
         "properties": {"total": {"@path": "$.properties.total"},
                        "first": {"@path": "$.properties.items.0"},
                        "n": {"@path": "$.properties.items.length"}},
         "traits": {"@if": {"exists": {"@path": "$.traits.email"}, "then": {"@path": "$.traits"},
                            "else": {"@path": "$.context.traits"}}},
     }},
    {"subscribe": 'type = "identify" or traits.plan = "pro"', "partnerAction":
     "upsertContactProfile",
     "mapping": {
         "user_id": {"@path": "$.userId"}, "anonymous_id": {"@path": "$.anonymousId"},
         "message_id": {"@path": "$.messageId"}, "timestamp": {"@path": "$.timestamp"},
         "traits": {"email": {"@path": "$.traits.email"}, "city": {"@path": "$.traits.a.b.c"}},
         "location": {"country": {"@path": "$.context.location.country"}},
     }},
]


def _router(subscriptions: list[dict[str, Any]] | None) -> tuple[Router, Callable[..., Any]]:
    subs = None if subscriptions is None else [
        SubscriptionConfig.model_validate(s) for s in subscriptions
    ]
    return compile_router(subs), projected_decoder(event_reads(subs))


PRESETS = _router(None)
WIDE = _router(_WIDE)


def _view(router: Router, decode: Callable[[bytes | None], dict[str, Any]],
          value: bytes | None) -> tuple[Any, ...]:
    """What the dispatcher makes of ``value``: the same tuple means the same outcome."""
    try:
        event = decode(value)
    except DecodeError as exc:
        return ("decode", exc.reason, str(exc))
    message_id = event.get("messageId")
    try:
        outcomes = router.route(event)
    except Exception as exc:
        return ("route failed", type(exc).__name__, str(exc), message_id)
    views: list[tuple[Any, ...]] = []
    for outcome in outcomes:
        if type(outcome) is Accepted:
            try:
                views.append(("accepted", outcome.route.name, orjson.dumps(outcome.item)))
            except TypeError as exc:
                views.append(("unserialisable", outcome.route.name, str(exc)))
        elif type(outcome) is Rejected:
            views.append(("rejected", outcome.route.name, outcome.status, outcome.message))
        else:
            views.append(("skipped", outcome.route.name, outcome.reason))  # type: ignore[union-attr]
    return ("routed", outcomes is TURNED_OFF, views, message_id)


def _same(value: bytes | None, routers: tuple[tuple[Router, Any], ...] = (PRESETS, WIDE)) -> None:
    for router, projected in routers:
        assert _view(router, projected, value) == _view(router, decode_json, value)


# -- the vectors ------------------------------------------------------------------------------


def _vector_cases() -> list[tuple[list[dict[str, Any]] | None, list[bytes]]]:
    cases: list[tuple[list[dict[str, Any]] | None, list[bytes]]] = []
    for name in ("ortto-presets", "ortto-custom", "ortto-sdk"):
        for case in json.loads((CONFORMANCE / f"{name}.json").read_text())["cases"]:
            spec = case["subscriptions"]
            subs = None if spec == "presets" else spec
            cases.append((subs, [orjson.dumps(e) for e in case["events"]]))
    events = [orjson.dumps(c["event"]) for n in ("transform", "fql")
              for c in json.loads((CONFORMANCE / f"{n}.json").read_text())["cases"]]
    cases.append((None, events))
    return cases


def test_the_conformance_vectors_route_the_same() -> None:
    cases = _vector_cases()
    assert len(cases) > 150
    for subscriptions, values in cases:
        router = _router(subscriptions)
        for value in values:
            _same(value, (router, PRESETS, WIDE))


def test_the_poison_set_is_refused_the_same() -> None:
    for value in poison_values().values():
        _same(value)


# -- where msgspec alone and orjson part: each guard's reason -----------------------------------

_T = b'{"type":"track","userId":"u","event":"E","messageId":"m","timestamp":"t",'
_SKIPPED_NUMBER_OVERFLOW = _T + b'"context":{"library":{"v":1e400}}}'
_SKIPPED_BAD_UTF8 = _T + b'"context":{"userAgent":"\xc3("}}'
_READ_BIG_INTEGER = _T + b'"properties":{"n":123456789012345678901234567890}}'


@pytest.mark.parametrize("value", [_SKIPPED_NUMBER_OVERFLOW, _SKIPPED_BAD_UTF8, _READ_BIG_INTEGER])
def test_msgspec_alone_would_answer_differently_here(value: bytes) -> None:
    alone = msgspec.json.Decoder(_typed(event_reads(None) or {}, "E")).decode
    try:
        full: Any = decode_json(value)
    except DecodeError as exc:
        full = exc.reason
    # accepted where orjson refuses, or an int where orjson reads a float
    assert alone(value) != full
    _same(value)


def _deep(n: int, *, read: bool) -> bytes:
    inner = b"[" * n + b"]" * n
    return (_T + b'"properties":' + inner + b"}") if read else (_T + b'"x":' + inner + b"}")


@pytest.mark.parametrize("value", [
    b"", b"  ", b"null", b"[]", b'"x"', b"1", b"\xef\xbb\xbf" + _T + b'"a":1}', _T + b'"a":1} x',
    _T + b'"a":1}\x00', _T + b'"a":1}\n', _T + b'"a":1,}', _T + b'"a":NaN}', _T + b'"a":-Infinity}',
    _T + b'"a":"\\ud800"}', _T + b'"a":"\\udc00x"}', _T + b'"a":"\\ud83d\\ude00"}',
    _T + b'"a":"\x01"}', _T + b'"a":01}', _T + b'"a":1.}', _T + b'"a":.5}', _T + b'"a":+1}',
    _T + b'"a":1e400}', _T + b'"a":-1e308}', _T + b'"a":1e-400}', _T + b'"a":' + b"9" * 400 + b"}",
    _T + b'"properties":{"n":18446744073709551615,"m":18446744073709551616,'
         b'"o":-9223372036854775809,"z":-0.0,"i":-0,"f":1.0,"e":1E2,"t":5e-324}}',
    _T + b'"properties":{"p":0.1000000000000000055511151231257827}}',
    _T + b'"type":"identify","traits":{"email":"a@b.c"}}',
    _T + b'"context":{"ip":"1.2.3.4"},"context":{"locale":"x"}}',
    _T + b'"context":{"ip":"1.2.3.4"},"context":"a string"}',
    _T + b'"properties":{"a":1,"b":2,"a":3}}', _T + b'"integrations":{"Ortto":false}}',
    _T + b'"integrations":{"All":false},"integrations":{}}',
    _T + b'"context":{"\\u0069p":"1.2.3.4"},"ty\\u0070e":"identify"}',
    _T + b'"context":{"ip":"\xc3\xa9"},"s":"\xed\xa0\x80"}', _T + b'"s":"\xc0\xaf"}',
    _T + b'"s":"\xf4\x90\x80\x80"}', _T + b'"s\xff":1}', _T + b"\xff",
    _deep(1022, read=False), _deep(1023, read=False), _deep(1024, read=False),
    _deep(1022, read=True), _deep(1024, read=True), b"[" * 10_000 + b"]" * 10_000,
])
def test_edge_values_route_the_same(value: bytes) -> None:
    _same(value)


def test_a_raised_recursion_limit_does_not_let_deep_values_through() -> None:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)
    try:
        for depth in (1023, 1024, 1500):
            _same(_deep(depth, read=False))
            _same(_deep(depth, read=True))
    finally:
        sys.setrecursionlimit(limit)


# -- generated events ---------------------------------------------------------------------------

_SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(EVENTS)
def test_generated_events_route_the_same(event: Any) -> None:
    _same(json_text(event).encode())


@_SETTINGS
@given(EVENTS, st.data())
def test_mutated_events_route_the_same(event: Any, data: st.DataObject) -> None:
    _same(mutate(json_text(event).encode(), data))


@_SETTINGS
@given(EVENTS, EVIL)
def test_bad_bytes_inside_a_skipped_field_are_refused_the_same(event: Any, evil: bytes) -> None:
    skipped = ("context", ("object", [("library", ("text", "MARK")), ("ip", ("text", "1.1.1.1"))]))
    kind, pairs = event
    value = json_text((kind, [*pairs, skipped])).encode().replace(b"MARK", b"a" + evil + b"b")
    _same(value)
