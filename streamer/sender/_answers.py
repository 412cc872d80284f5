"""Reading Ortto's answers: the multi-status error list and the hints of a refusal."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["ItemError", "parse_item_errors", "retry_after_seconds"]


@dataclass(slots=True, frozen=True)
class ItemError:
    index: int
    status: int
    message: str


def parse_item_errors(body: bytes, count: int) -> list[ItemError] | None:
    """Per-item failures of a 200/207 answer for a request of ``count`` items.

    ``None`` means the answer cannot be read at all (the whole request is then treated as a
    500). An empty or missing ``errors`` list means every item succeeded. An entry without a
    usable index or status is ignored only if it cannot point at an item; one that points
    outside the request is ignored as well.
    """
    if not body.strip():
        return []
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(answer, dict):
        return None
    errors = answer.get("errors")
    if not errors:
        return []
    if not isinstance(errors, list):
        return None
    out: list[ItemError] = []
    for entry in errors:
        if not isinstance(entry, dict):
            continue
        index, status = entry.get("index"), entry.get("status")
        if type(index) is not int or not 0 <= index < count:
            continue
        if type(status) is not int:
            status = 500
        message = entry.get("message")
        out.append(ItemError(index, status, message if isinstance(message, str) else ""))
    return out


def retry_after_seconds(headers: Mapping[str, str], body: bytes) -> float | None:
    """The wait asked for by a 429: ``Retry-After`` (seconds) or Ortto's ``try-in-seconds``."""
    header = headers.get("retry-after")
    waits: list[float] = []
    if header:
        # An HTTP date is rare from Ortto: then the body's hint or our own backoff decides.
        with contextlib.suppress(ValueError):
            waits.append(max(0.0, float(header)))
    try:
        answer: Any = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        answer = None
    if isinstance(answer, dict):
        error = answer.get("error")
        if isinstance(error, dict):
            value = error.get("try-in-seconds")
            if isinstance(value, int | float) and not isinstance(value, bool):
                waits.append(max(0.0, float(value)))
    return max(waits) if waits else None
