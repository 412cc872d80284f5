"""Avro records become the JSON values a JSON message gives (rules of streamer/source/_avro.py)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastavro
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamer import DecodeError
from streamer.source import AvroReader, decode_json, load_schema
from streamer.testing import (
    SDK_MIXES,
    SEGMENT_EVENT_SCHEMA,
    sample_events,
    schemaless_avro,
    sdk_events,
    segment_avro_datum,
)

UTC = dt.UTC


def _ts(**kw: Any) -> dict[str, Any]:
    return {"type": "long", **kw}


RULES_SCHEMA: dict[str, Any] = {
    "type": "record", "name": "Rules", "fields": [
        {"name": "ts_ms", "type": _ts(logicalType="timestamp-millis")},
        {"name": "ts_us", "type": _ts(logicalType="timestamp-micros")},
        {"name": "local_ms", "type": _ts(logicalType="local-timestamp-millis")},
        {"name": "local_us", "type": _ts(logicalType="local-timestamp-micros")},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "t_ms", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "t_us", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "price", "type": {"type": "bytes", "logicalType": "decimal",
                                   "precision": 10, "scale": 2}},
        {"name": "whole", "type": {"type": "fixed", "name": "W", "size": 8,
                                   "logicalType": "decimal", "precision": 18}},
        {"name": "big", "type": "long"},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}},
        {"name": "blob", "type": "bytes"},
        {"name": "tag", "type": {"type": "fixed", "name": "Tag", "size": 3}},
        {"name": "absent", "type": ["null", "string"], "default": None},
        {"name": "either", "type": ["null", "string", "long"]},
        {"name": "nested", "type": {"type": "record", "name": "Nested", "fields": [
            {"name": "gone", "type": ["null", "int"]},
            {"name": "list", "type": {"type": "array", "items": ["null", "double"]}},
            {"name": "map", "type": {"type": "map", "values": ["null", "boolean"]}},
        ]}},
    ],
}

RULES_DATUM: dict[str, Any] = {
    "ts_ms": dt.datetime(2026, 11, 28, 10, 0, 0, 123000, tzinfo=UTC),
    "ts_us": dt.datetime(2026, 11, 28, 10, 0, 0, 123999, tzinfo=UTC),
    "local_ms": dt.datetime(2026, 11, 28, 10, 0, 0, 5000),
    "local_us": dt.datetime(1969, 12, 31, 23, 59, 59, 999999),
    "day": dt.date(2026, 2, 3),
    "t_ms": dt.time(7, 8, 9, 10000),
    "t_us": dt.time(23, 59, 59, 999999),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "price": Decimal("12.34"),
    "whole": Decimal("123456789012345678"),
    "big": 2**63 - 1,
    "kind": "B",
    "blob": b"\x00\x01\xfe\xff",
    "tag": b"abc",
    "absent": None,
    "either": 42,
    "nested": {"gone": None, "list": [1.5, None], "map": {"yes": True, "no": None}},
}

RULES_JSON = {
    "ts_ms": "2026-11-28T10:00:00.123Z",
    "ts_us": "2026-11-28T10:00:00.123Z",
    "local_ms": "2026-11-28T10:00:00.005",
    "local_us": "1969-12-31T23:59:59.999",
    "day": "2026-02-03",
    "t_ms": "07:08:09.010",
    "t_us": "23:59:59.999",
    "id": "12345678-1234-5678-1234-567812345678",
    "price": 12.34,
    "whole": 123456789012345678,
    "big": 9223372036854775807,
    "kind": "B",
    "blob": "AAH+/w==",
    "tag": "YWJj",
    "either": 42,
    "nested": {"list": [1.5, None], "map": {"yes": True}},
}


def _reader(schema: dict[str, Any]) -> AvroReader:
    return AvroReader(fastavro.parse_schema(schema))


def test_each_avro_type_becomes_its_json_value() -> None:
    value = schemaless_avro(RULES_DATUM, RULES_SCHEMA)
    event = _reader(RULES_SCHEMA)(value)
    assert event == RULES_JSON
    # The same types as a JSON message of that text: the mapping sees no difference.
    assert event == decode_json(orjson.dumps(RULES_JSON))
    assert {type(event[k]) for k in ("price", "whole", "big")} == {float, int}


def test_a_decimal_is_a_float_only_with_fraction_digits() -> None:
    schema = {"type": "record", "name": "D", "fields": [
        {"name": "d", "type": {"type": "bytes", "logicalType": "decimal",
                               "precision": 30, "scale": 2}}]}
    reader = _reader(schema)
    assert reader(schemaless_avro({"d": Decimal("100.00")}, schema)) == {"d": 100.0}
    scale0 = {"type": "record", "name": "D", "fields": [
        {"name": "d", "type": {"type": "bytes", "logicalType": "decimal", "precision": 19}}]}
    value = _reader(scale0)(schemaless_avro({"d": Decimal(-(2**62))}, scale0))
    assert value == {"d": -(2**62)} and type(value["d"]) is int


def test_bytes_that_are_not_a_record_of_the_schema_are_invalid_avro() -> None:
    good = schemaless_avro(RULES_DATUM, RULES_SCHEMA)
    reader = _reader(RULES_SCHEMA)
    for bad in (good[:7], good + b"\x00", b"\xff" * 40, b""):
        with pytest.raises(DecodeError) as caught:
            reader(bad)
        assert caught.value.reason == "invalid_avro"
    with pytest.raises(DecodeError) as caught:
        reader(None)
    assert caught.value.reason == "empty"


def test_a_schema_that_is_not_a_record_gives_not_object() -> None:
    reader = _reader({"type": "array", "items": "long"})
    with pytest.raises(DecodeError) as caught:
        reader(schemaless_avro([1, 2], {"type": "array", "items": "long"}))  # type: ignore[arg-type]
    assert caught.value.reason == "not_object"


def test_json_text_that_is_not_json_is_invalid_avro() -> None:
    schema = {"type": "record", "name": "J", "fields": [
        {"name": "j", "type": {"type": "string", "logicalType": "json"}}]}
    with pytest.raises(DecodeError) as caught:
        _reader(schema)(schemaless_avro({"j": "{not json"}, schema))
    assert caught.value.reason == "invalid_avro"


def test_load_schema_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.avsc"
    bad.write_text('{"type": "record", "name": "X", "fields": [{"name": "a", "type": "nope"}]}')
    with pytest.raises(ValueError, match=r"bad\.avsc"):
        load_schema(bad)
    with pytest.raises(ValueError, match="cannot read"):
        load_schema(tmp_path / "missing.avsc")


# -- schemas/segment-event.avsc ---------------------------------------------------------------

@pytest.fixture(scope="module")
def segment_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SEGMENT_EVENT_SCHEMA.read_text())
    return schema


def _round_trip(event: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    value = schemaless_avro(segment_avro_datum(event, schema), schema)
    return AvroReader(load_schema(SEGMENT_EVENT_SCHEMA))(value)


def _text(event: dict[str, Any]) -> bytes:
    # The JSON text, keys sorted: 2 and 2.0 differ here (they are equal as Python numbers).
    return orjson.dumps(event, option=orjson.OPT_SORT_KEYS)


def test_sdk_events_round_trip_with_their_version(segment_schema: dict[str, Any]) -> None:
    # What Segment's libraries send, `version` included (2), every type of event.
    for mix in SDK_MIXES:
        events = [event for _, event in sdk_events(200, seed=5, mix=mix)]
        assert all(type(event["version"]) is int for event in events)
        assert [_text(_round_trip(e, segment_schema)) for e in events] == [
            _text(e) for e in events]


@pytest.mark.parametrize("version", [2, 1.1, 2.0, 0, 2**63 - 1])
def test_a_version_comes_back_as_the_number_it_was(
    segment_schema: dict[str, Any], version: float
) -> None:
    event = {"type": "track", "event": "Signed Up", "userId": "u1", "version": version}
    back = _round_trip(event, segment_schema)
    assert type(back["version"]) is type(version) and _text(back) == _text(event)


def test_sample_segment_events_round_trip_through_the_schema(
    segment_schema: dict[str, Any]
) -> None:
    for event in sample_events(300, seed=17):
        assert _round_trip(event, segment_schema) == event


_json_scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
                 | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10))
_json = st.recursive(_json_scalars, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)
_stamp = st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
    lambda d: d.isoformat(timespec="milliseconds") + "Z")


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(["identify", "track", "page", "screen", "group", "alias"]),
    ids=st.fixed_dictionaries({}, optional={
        "userId": st.text(max_size=12), "anonymousId": st.text(max_size=12),
        "messageId": st.text(max_size=12), "event": st.text(max_size=12),
        "groupId": st.text(max_size=5), "previousId": st.text(max_size=5),
        "name": st.text(max_size=5), "category": st.text(max_size=5),
        "version": st.integers(-(2**63), 2**63 - 1)
        | st.floats(allow_nan=False, allow_infinity=False)}),
    stamps=st.fixed_dictionaries({}, optional={
        "timestamp": _stamp, "sentAt": _stamp, "receivedAt": _stamp,
        "originalTimestamp": _stamp}),
    objects=st.fixed_dictionaries({}, optional={
        k: st.dictionaries(st.text(max_size=8), _json, max_size=5)
        for k in ("traits", "properties", "context", "integrations")}),
)
def test_any_segment_event_round_trips(
    segment_schema: dict[str, Any], kind: str, ids: dict[str, Any], stamps: dict[str, Any],
    objects: dict[str, Any],
) -> None:
    event = {"type": kind, **ids, **stamps, **objects}
    assert _text(_round_trip(event, segment_schema)) == _text(event)
