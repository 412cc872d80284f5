"""Segment events written as Avro: what a producer using ``schemas/segment-event.avsc`` sends.

``segment_avro_datum(event, schema)`` turns a JSON Segment event into the datum fastavro (or
confluent-kafka's ``AvroSerializer``) writes with that schema: each top-level field of the schema
is taken from the event, ``timestamp-millis`` fields from their ISO 8601 strings, ``json``
strings (``"logicalType": "json"``) as the JSON text of the value. ``schemaless_avro`` writes it.
The tests and the decoding benchmark use both; so can a test of your own producer.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from fastavro import parse_schema, schemaless_writer

__all__ = ["SEGMENT_EVENT_SCHEMA", "schemaless_avro", "segment_avro_datum"]

SEGMENT_EVENT_SCHEMA = Path(__file__).parents[2] / "schemas" / "segment-event.avsc"
"""The schema in a source checkout (``schemas/`` is not part of the installed package)."""


def _logical(field_type: Any) -> str | None:
    branches = field_type if isinstance(field_type, list) else [field_type]
    for branch in branches:
        if isinstance(branch, dict) and "logicalType" in branch:
            return str(branch["logicalType"])
    return None


def segment_avro_datum(event: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The Avro datum of ``event`` for a record ``schema`` (parsed or not)."""
    datum: dict[str, Any] = {}
    for field in schema["fields"]:
        name = field["name"]
        value = event.get(name)
        if value is not None:
            logical = _logical(field["type"])
            if logical == "json":
                value = orjson.dumps(value).decode()
            elif logical == "timestamp-millis" and isinstance(value, str):
                value = datetime.fromisoformat(value)
        datum[name] = value
    return datum


def schemaless_avro(datum: dict[str, Any], schema: dict[str, Any]) -> bytes:
    """``datum`` written with ``schema`` and nothing else (no header: ``kafka.avro_schema``)."""
    buffer = io.BytesIO()
    schemaless_writer(buffer, parse_schema(schema), datum)
    return buffer.getvalue()
