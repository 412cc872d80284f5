"""Turning a Kafka message value into a Segment event (a JSON object).

A value that is not a JSON object is a reject at stage ``decode``, never a crash: the pipeline
dead-letters the original bytes with the reason. The decoder is a plain callable so other
formats (Avro, raw or in the Confluent wire format) slot in beside JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from .._exceptions import DecodeError

__all__ = ["Decoder", "decode_json"]

Decoder = Callable[[bytes | None], dict[str, Any]]

_loads = orjson.loads


def decode_json(value: bytes | None) -> dict[str, Any]:
    """Decode a JSON Segment event; raise :class:`DecodeError` with a reason otherwise."""
    if value is None:
        raise DecodeError("message has no value (tombstone)", reason="empty")
    try:
        event = _loads(value)
    except orjson.JSONDecodeError as exc:
        text = str(exc)
        if "UTF-8" in text:
            reason = "invalid_utf8"
        elif "depth" in text or "recursion" in text:
            reason = "too_deep"
        else:
            reason = "invalid_json"
        raise DecodeError(f"not valid JSON: {exc}", reason=reason) from None
    if type(event) is not dict:
        raise DecodeError(
            f"a Segment event must be a JSON object, not {_json_type(event)}", reason="not_object"
        )
    return event


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array"
