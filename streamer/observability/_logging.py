"""Log output for people and for log pipelines: ``logging.format`` and ``logging.level``.

``streamer run`` calls :func:`configure_logging` once, after the configuration is loaded (before
that, errors go to stderr as plain text). It replaces the root logger's handlers with one handler
on stderr:

- ``text``: ``2026-12-01T09:50:00.123Z INFO streamer.app: message`` (UTC, like the JSON);
- ``json``: one JSON object per line with ``time`` (RFC 3339, UTC, milliseconds), ``level``,
  ``logger``, ``message``, and ``topic`` / ``partition`` / ``offset`` / ``subscription`` when the
  call passed them (``log.warning(..., extra={"topic": t, "partition": p})``), and ``exception``
  with the traceback when there is one;
- ``auto``: text when stderr is a terminal, JSON otherwise (a container's stderr is a pipe).

Log lines carry statuses, reasons, field names and coordinates, never the API key, secrets or
values from events: the formatter only prints the message and the fields above.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import IO, Literal

import orjson

__all__ = ["CONTEXT_FIELDS", "JsonFormatter", "TextFormatter", "configure_logging"]

LogFormat = Literal["json", "text", "auto"]

#: Record attributes (set through ``extra=``) that a JSON line carries when present.
CONTEXT_FIELDS = ("topic", "partition", "offset", "subscription")


def _utc_time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": _utc_time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in CONTEXT_FIELDS:
            value = record.__dict__.get(field)
            if value is not None:
                line[field] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        # default=str: a context value of an unexpected type must not lose the line.
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """``TIME LEVEL LOGGER: MESSAGE [topic=... partition=...]``, times in UTC."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _utc_time(record)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = [f"{f}={record.__dict__[f]}" for f in CONTEXT_FIELDS
                   if record.__dict__.get(f) is not None]
        if not context:
            return text
        first, newline, rest = text.partition("\n")
        return f"{first} [{' '.join(context)}]{newline}{rest}"


def configure_logging(
    log_format: LogFormat = "auto", level: str = "INFO", *, stream: IO[str] | None = None
) -> logging.Handler:
    """Send every record of ``level`` and above to ``stream`` (stderr) in ``log_format``."""
    out = stream if stream is not None else sys.stderr
    if log_format == "auto":
        isatty = getattr(out, "isatty", None)
        log_format = "text" if isatty is not None and isatty() else "json"
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
