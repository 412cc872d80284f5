"""The documented layout (schemas/dead-letter.avsc) matches what the writer puts in headers."""

from __future__ import annotations

import io
import json
from pathlib import Path

import fastavro
import pytest

from streamer.deadletter import Rejection, build_headers, read_dead_letter

SCHEMA_PATH = Path(__file__).parents[2] / "schemas" / "dead-letter.avsc"


@pytest.fixture(scope="module")
def schema() -> dict[str, object]:
    parsed: dict[str, object] = fastavro.parse_schema(json.loads(SCHEMA_PATH.read_text()))
    return parsed


def _roundtrip(schema: dict[str, object], record: dict[str, object]) -> dict[str, object]:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, record)
    buffer.seek(0)
    back: dict[str, object] = fastavro.schemaless_reader(buffer, schema, schema)
    return back


def test_a_full_deliver_record_fits_the_schema(schema: dict[str, object]) -> None:
    rejection = Rejection(
        "deliver", "retries_exhausted", "retries exhausted after HTTP 503", 503,
        action="trackActivity", subscription="Track Activity", config_hash="h1",
        message_id="m-9", attempts=7, first_failure=1_700_000_000.0, last_failure=1_700_000_300.0,
    )
    headers = build_headers(
        rejection, topic="events", partition=2, offset=99, timestamp_ms=1_700_000_000_123,
        source_headers=[("trace", b"t-1"), ("empty", None)], truncated_from=5_000_000,
    )
    record = read_dead_letter(b"user-1", b'{"type":"track"}', headers)
    assert fastavro.validate(record, schema, raise_errors=True)
    back = _roundtrip(schema, record)
    assert back["stage"] == "deliver"
    assert back["status"] == 503
    assert back["source_offset"] == 99
    assert back["attempts"] == 7
    assert back["value_truncated"] == 5_000_000
    assert back["source_headers"] == [
        {"key": "trace", "value": b"t-1"}, {"key": "empty", "value": None}
    ]
    assert back["last_failure"] == "2023-11-14T22:18:20.000+00:00"


def test_a_minimal_decode_record_fits_the_schema(schema: dict[str, object]) -> None:
    headers = build_headers(
        Rejection("decode", "invalid_json", "not valid JSON: unexpected end", 400),
        topic="events", partition=0, offset=0, timestamp_ms=None, source_headers=None,
    )
    record = read_dead_letter(None, b"{", headers)
    assert fastavro.validate(record, schema, raise_errors=True)
    assert record["action"] is None
    assert record["source_timestamp"] is None


def test_every_header_the_writer_can_emit_is_a_schema_field(schema: dict[str, object]) -> None:
    names = {f["name"] for f in json.loads(SCHEMA_PATH.read_text())["fields"]}
    everything = Rejection(
        "validate", "validation", "m", 400, error_class="ConnectError", action="a",
        subscription="s", config_hash="c",
        message_id="i", attempts=1, first_failure=1.0, last_failure=2.0,
    )
    headers = build_headers(everything, topic="t", partition=0, offset=1, timestamp_ms=5,
                            source_headers=None, truncated_from=10)
    record = read_dead_letter(None, None, headers)
    assert set(record) == names
    assert all(record[n] is not None for n in names - {"key", "value"})


def test_a_failure_without_an_http_answer_has_no_status_but_its_class(
    schema: dict[str, object],
) -> None:
    rejection = Rejection(
        "deliver", "retries_exhausted",
        "retries exhausted after 4 attempts; last failure: POST /track: ConnectError: refused",
        error_class="ConnectError", attempts=4,
    )
    headers = build_headers(rejection, topic="t", partition=0, offset=3, timestamp_ms=None,
                            source_headers=None)
    names = [name for name, _ in headers]
    assert "streamer.status" not in names
    assert dict(headers)["streamer.error_class"] == b"ConnectError"
    record = read_dead_letter(None, b"{}", headers)
    assert fastavro.validate(record, schema, raise_errors=True)
    back = _roundtrip(schema, record)
    assert back["status"] is None
    assert back["error_class"] == "ConnectError"


def test_a_message_without_stage_is_not_a_dead_letter() -> None:
    with pytest.raises(ValueError, match=r"streamer\.stage"):
        read_dead_letter(None, b"{}", [("trace", b"x")])
