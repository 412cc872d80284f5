"""The dead-letter record: the original message, plus ``streamer.*`` headers saying why.

Layout (also in ``schemas/dead-letter.avsc`` and the README):

- key, value: the source message's, byte for byte (a value over the size limit is cut to the
  limit and ``streamer.value_truncated`` gives the original length);
- the source headers, unchanged, first;
- ``streamer.stage``: ``decode``, ``validate`` or ``deliver``;
- ``streamer.reason``: a short code (``invalid_json``, ``validation``, ``rejected``,
  ``retries_exhausted``, ``payload_too_large``, ...);
- ``streamer.status``: the HTTP-style status (400 for local validation), when there is one
  (absent when Ortto never answered: a timeout or a connection failure);
- ``streamer.error_class``: the exception class of the last failure when there was no HTTP
  answer (aiohttp's ``ClientConnectorError``, ``SocketTimeoutError``, ``ServerDisconnectedError``,
  ...; httpx's behind a proxy);
- ``streamer.message``: the human-readable cause (Ortto's item message when Ortto refused it);
- ``streamer.action``, ``streamer.subscription``, ``streamer.config_hash``: what mapped it;
- ``streamer.message_id``: the event's ``messageId``, when it could be read;
- ``streamer.source.topic``, ``.partition``, ``.offset``, ``.timestamp`` (ms since epoch);
- ``streamer.attempts``, ``streamer.first_failure``, ``streamer.last_failure`` (ISO-8601 UTC);
- ``streamer.redrives``: how many times ``streamer redrive`` sent it again (absent: never); a
  letter written by a redrive keeps the first failure time of the letter it came from.

Header values are UTF-8 text. The API key never appears in a record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["MESSAGE_LIMIT", "Rejection", "build_headers"]

MESSAGE_LIMIT = 16_000
"""Most characters of ``streamer.message``: Ortto's whole message, cut only when it is longer
(a whole-request refusal may answer a page of HTML); the record still fits the topic."""


@dataclass(slots=True, frozen=True)
class Rejection:
    stage: str
    reason: str
    message: str
    status: int | None = None
    error_class: str | None = None
    """The exception class of the last failure, when Ortto gave no HTTP answer."""
    action: str | None = None
    subscription: str | None = None
    config_hash: str | None = None
    message_id: str | None = None
    attempts: int = 0
    first_failure: float | None = None
    """Wall-clock seconds since the epoch."""
    last_failure: float | None = None
    redrives: int = 0
    """Times ``streamer redrive`` sent the message again before this failure."""


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


def build_headers(
    rejection: Rejection,
    *,
    topic: str,
    partition: int,
    offset: int,
    timestamp_ms: int | None,
    source_headers: list[tuple[str, bytes | None]] | None,
    truncated_from: int | None = None,
) -> list[tuple[str, str | bytes | None]]:
    headers: list[tuple[str, Any]] = list(source_headers or ())
    add = headers.append
    add(("streamer.stage", rejection.stage))
    add(("streamer.reason", rejection.reason))
    if rejection.status is not None:
        add(("streamer.status", str(rejection.status)))
    if rejection.error_class is not None:
        add(("streamer.error_class", rejection.error_class))
    add(("streamer.message", rejection.message[:MESSAGE_LIMIT]))
    for name, value in (
        ("streamer.action", rejection.action),
        ("streamer.subscription", rejection.subscription),
        ("streamer.config_hash", rejection.config_hash),
        ("streamer.message_id", rejection.message_id),
    ):
        if value:
            add((name, value))
    add(("streamer.source.topic", topic))
    add(("streamer.source.partition", str(partition)))
    add(("streamer.source.offset", str(offset)))
    if timestamp_ms is not None:
        add(("streamer.source.timestamp", str(timestamp_ms)))
    add(("streamer.attempts", str(rejection.attempts)))
    if rejection.first_failure is not None:
        add(("streamer.first_failure", _iso(rejection.first_failure)))
    if rejection.last_failure is not None:
        add(("streamer.last_failure", _iso(rejection.last_failure)))
    if truncated_from is not None:
        add(("streamer.value_truncated", str(truncated_from)))
    if rejection.redrives:
        add(("streamer.redrives", str(rejection.redrives)))
    return [(k, v.encode() if isinstance(v, str) else v) for k, v in headers]
