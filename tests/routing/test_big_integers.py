"""A deliberate difference from Segment: integers beyond 2^53 are sent exactly.

Segment holds every number as a double (``1790000000000000123`` reaches Ortto as
``1790000000000000000``); streamer keeps a 64-bit integer as it was read. Beyond 64 bits orjson
reads a double, as Segment does.
"""

from __future__ import annotations

import orjson

from streamer.routing import Accepted, compile_router, plan_batch
from streamer.source import decode_json

BIG = 1790000000000000123


def test_a_64_bit_integer_goes_through_unchanged() -> None:
    raw = (b'{"type": "track", "userId": "u1", "event": "Order Completed", "messageId": "m-1",'
           b' "timestamp": "2026-11-28T10:07:00.000Z", "properties": {"order": 1790000000000000123,'
           b' "huge": 123456789012345678901234567890}}')
    event = decode_json(raw)
    assert event["properties"]["order"] == BIG and float(BIG) != BIG
    [outcome] = compile_router(None).route(event)
    assert type(outcome) is Accepted
    sent = orjson.dumps(outcome.item)
    assert b'"order":1790000000000000123' in sent
    assert type(orjson.loads(sent)["properties"]["huge"]) is float
    [request] = plan_batch(compile_router(None), [event]).requests
    assert request.body[0]["properties"]["order"] == BIG
