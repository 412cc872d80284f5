"""Avro records into Segment events: the same JSON types a JSON message gives the mapping.

fastavro reads the binary record (``schemaless_reader``; the writer's schema comes from the
registry or from ``kafka.avro_schema``) and turns logical types into Python objects; one walk
over the result then turns those into JSON values:

- ``timestamp-millis`` / ``timestamp-micros``: ``2026-11-28T10:00:00.000Z`` (UTC, milliseconds,
  as Segment writes timestamps; micros are truncated); ``local-timestamp-*`` the same without
  ``Z``; ``date``: ``YYYY-MM-DD``; ``time-millis`` / ``time-micros``: ``HH:MM:SS.mmm``;
- ``uuid``: its string; ``decimal``: a JSON number, an integer when the value has no fraction
  digits (scale 0: exact), else a float (what a JSON parser makes of ``12.34``);
- ``long`` stays an exact integer; an enum becomes its symbol; ``bytes`` and ``fixed`` (and
  ``duration``) standard base64;
- records and maps become objects, arrays lists; a null in a record or a map is left out (Avro
  says "absent" only with a null union), in an array it stays null;
- a ``string`` with ``"logicalType": "json"`` holds JSON text (``schemas/segment-event.avsc``
  uses it for traits, properties, context): it becomes the parsed value, untouched by the rules
  above (its nulls stay), exactly what the same JSON message would give. Registered with
  fastavro's documented extension point (``LOGICAL_READERS``); readers that do not know the
  logical type see the string, as the Avro specification says.

Everything that goes wrong while reading (truncated bytes, a union index out of range, trailing
bytes, JSON text that is not JSON) is a :class:`DecodeError` with reason ``invalid_avro``.
"""

from __future__ import annotations

import base64
import io
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
from fastavro import parse_schema, schemaless_reader
from fastavro.read import LOGICAL_READERS

from .._exceptions import DecodeError

__all__ = ["AvroReader", "json_value", "load_schema", "parse_writer_schema"]

ParsedSchema = Any
"""What ``fastavro.parse_schema`` returns (a dict, or a list for a union)."""


class _Json:
    """JSON text already parsed: the walk hands its value over as it is (nulls kept)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _read_json(data: str, writer_schema: Any = None, reader_schema: Any = None) -> _Json:
    return _Json(orjson.loads(data))


LOGICAL_READERS["string-json"] = _read_json

_SCALARS = frozenset({str, int, float, bool})


def json_value(value: Any) -> Any:
    """What fastavro read, as the JSON value the mapping expects (rules in the docstring)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    # Most values are scalars: tested inline, they cost no call.
    if kind is dict:
        return {k: v if type(v) in _SCALARS else json_value(v)
                for k, v in value.items() if v is not None}
    if kind is list:
        return [v if type(v) in _SCALARS else json_value(v) for v in value]
    if value is None:
        return None
    if kind is _Json:
        return value.value
    if kind is datetime:
        text = value.isoformat(timespec="milliseconds")
        # fastavro gives timestamp-* in UTC (``+00:00``) and local-timestamp-* naive.
        return text if value.tzinfo is None else text[:-6] + "Z"
    if kind is date:
        return value.isoformat()
    if kind is time:
        return value.isoformat(timespec="milliseconds")
    if kind is Decimal:
        return int(value) if value.as_tuple().exponent >= 0 else float(value)
    if kind is UUID:
        return str(value)
    if kind is bytes:
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"no JSON form for an Avro value of type {kind.__name__}")


def load_schema(path: str | Path) -> ParsedSchema:
    """Read and parse an ``.avsc`` file; a ValueError names the file and the problem."""
    file = Path(path)
    try:
        text = file.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read the Avro schema {file}: {exc.strerror}") from None
    try:
        return parse_writer_schema(text)
    except ValueError as exc:
        raise ValueError(f"{file}: {exc}") from None


def parse_writer_schema(
    text: str | bytes, named: dict[str, Any] | None = None
) -> ParsedSchema:
    """Parse a writer's schema (JSON text); ``named`` holds referenced types, parsed before."""
    try:
        schema = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not a JSON document: {exc}") from None
    try:
        return parse_schema(schema, named_schemas=named if named is not None else {})
    except Exception as exc:  # fastavro raises SchemaParseException, KeyError, TypeError...
        raise ValueError(f"not a valid Avro schema: {type(exc).__name__}: {exc}") from None


class AvroReader:
    """Reads one record of a known writer's schema into a Segment event."""

    __slots__ = ("_schema",)

    def __init__(self, schema: ParsedSchema) -> None:
        self._schema = schema

    def read(self, buffer: io.BytesIO, size: int) -> dict[str, Any]:
        try:
            record = schemaless_reader(buffer, self._schema, None)
            if buffer.tell() != size:
                raise ValueError(f"{size - buffer.tell()} bytes left after the record")
            event = json_value(record)
        except Exception as exc:  # fastavro's errors are EOFError, ValueError, IndexError...
            raise DecodeError(
                f"not a record of the writer's schema: {type(exc).__name__}: {exc}"[:500],
                reason="invalid_avro",
            ) from None
        if type(event) is not dict:
            raise DecodeError("a Segment event must be an Avro record or map", reason="not_object")
        return event

    def __call__(self, value: bytes | None) -> dict[str, Any]:
        """The decoder of schemaless values (``kafka.avro_schema``)."""
        if value is None:
            raise DecodeError("message has no value (tombstone)", reason="empty")
        return self.read(io.BytesIO(value), len(value))
