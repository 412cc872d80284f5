"""Reading a dead-letter record back: the typed view of ``schemas/dead-letter.avsc``.

Operators inspect and replay dead letters; tools that want Avro (a sink, a data lake) write the
dict this returns with the schema as is. The wire record stays a plain Kafka message so that a
replay is "produce key, value and source headers back to the source topic".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["read_dead_letter"]

_TEXT = {
    "streamer.reason": "reason",
    "streamer.message": "message",
    "streamer.error_class": "error_class",
    "streamer.action": "action",
    "streamer.subscription": "subscription",
    "streamer.config_hash": "config_hash",
    "streamer.message_id": "message_id",
    "streamer.source.topic": "source_topic",
    "streamer.first_failure": "first_failure",
    "streamer.last_failure": "last_failure",
}
_NUMBERS = {
    "streamer.status": "status",
    "streamer.source.partition": "source_partition",
    "streamer.source.offset": "source_offset",
    "streamer.source.timestamp": "source_timestamp",
    "streamer.attempts": "attempts",
    "streamer.value_truncated": "value_truncated",
    "streamer.redrives": "redrives",
}


def read_dead_letter(
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes | None]] | None,
) -> dict[str, Any]:
    """The record as a dict shaped by ``schemas/dead-letter.avsc``.

    Raises ``ValueError`` when ``streamer.stage`` is missing: then it is not a dead letter.
    """
    record: dict[str, Any] = {
        "key": key, "value": value, "source_headers": [], "stage": None, "reason": "",
        "status": None, "error_class": None, "message": "", "action": None, "subscription": None,
        "config_hash": None, "message_id": None, "source_topic": "", "source_partition": -1,
        "source_offset": -1, "source_timestamp": None, "attempts": 0, "first_failure": None,
        "last_failure": None, "value_truncated": None, "redrives": 0,
    }
    for name, raw in headers or ():
        if not name.startswith("streamer."):
            record["source_headers"].append({"key": name, "value": raw})
            continue
        text = (raw or b"").decode("utf-8", "replace")
        if name == "streamer.stage":
            record["stage"] = text
        elif name in _TEXT:
            record[_TEXT[name]] = text
        elif name in _NUMBERS:
            record[_NUMBERS[name]] = int(text)
    if record["stage"] is None:
        raise ValueError("not a streamer dead-letter record: no streamer.stage header")
    return record
