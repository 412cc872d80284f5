"""Rate-limited log lines for things that happen per message: dead letters and retries.

One dead-lettered message is worth a line; a poison burst of 50 000 is worth one line too, not
50 000. :class:`LogSummariser` keeps, per key (``(stage, reason)`` for dead letters,
``("retry", reason)`` for retries), a count and one example's coordinates, and writes at most one
line per key every ``window_s``:

1. The first :meth:`note` of a key (or the first after a quiet window) is logged at once, with
   the count of what was noted since the key's last line (so nothing is lost between lines).
2. Further notes inside the window only count, and keep the first example.
3. :meth:`flush_due` (called by the pipeline's loop at every checkpoint) writes the lines whose
   window is over, so a burst that stops is still reported; :meth:`flush` (at shutdown) writes
   every count still held.

A line carries the key, the count, the window and the example's topic, partition and offset, and
an optional ``detail`` given by the caller (for ``retries_exhausted``: the sender's description
of the last failure). It never carries values from events: callers pass statuses, reasons and
texts of their own making only, never Ortto's message (which the dead-letter record keeps).

Cost per note: one dict lookup and a counter increment (the hot path notes each reject).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["LogSummariser"]

_WINDOW_S = 10.0


@dataclass(slots=True)
class _Entry:
    count: int = 0
    last_line: float = float("-inf")
    topic: str = ""
    partition: int = -1
    offset: int = -1
    status: int | None = None
    detail: str = ""


class LogSummariser:
    """At most one log line per key every ``window_s``, with the count since the last one."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        what: str,
        level: int = logging.WARNING,
        window_s: float = _WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._what = what
        self._level = level
        self._window = window_s
        self._clock = clock
        self._entries: dict[tuple[str, str], _Entry] = {}
        self.lines = 0
        """Lines written so far (for tests and the curious)."""

    def note(
        self,
        stage: str,
        reason: str,
        topic: str,
        partition: int,
        offset: int,
        *,
        count: int = 1,
        status: int | None = None,
        detail: str = "",
    ) -> None:
        """``count`` more of ``(stage, reason)``; ``topic[partition]@offset`` is an example."""
        key = (stage, reason)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        if entry.count == 0:
            entry.topic, entry.partition, entry.offset = topic, partition, offset
            entry.status, entry.detail = status, detail
        elif detail:
            entry.detail = detail  # the latest description of what failed is the useful one
        entry.count += count
        now = self._clock()
        if now - entry.last_line >= self._window:
            self._write(key, entry, now)

    def flush_due(self) -> None:
        """Write the counts whose window is over."""
        now = self._clock()
        for key, entry in self._entries.items():
            if entry.count and now - entry.last_line >= self._window:
                self._write(key, entry, now)

    def flush(self) -> None:
        """Write every count still held (at shutdown)."""
        now = self._clock()
        for key, entry in self._entries.items():
            if entry.count:
                self._write(key, entry, now)

    def _write(self, key: tuple[str, str], entry: _Entry, now: float) -> None:
        stage, reason = key
        since = now - entry.last_line
        span = f"in the last {since:.0f}s" if since < 10 * self._window else "since start"
        status = "" if entry.status is None else f" status {entry.status}"
        detail = f": {entry.detail}" if entry.detail else ""
        self._log.log(
            self._level, "%s %d %s (stage %s, reason %s%s), e.g. %s[%d]@%d%s",
            self._what, entry.count, span, stage, reason, status,
            entry.topic, entry.partition, entry.offset, detail,
        )
        self.lines += 1
        entry.count = 0
        entry.last_line = now
