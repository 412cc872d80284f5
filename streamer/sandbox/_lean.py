"""The lean intake: the sandbox as a benchmark's sink, which must not be what is measured.

With ``intake="lean"`` (``streamer sandbox --intake lean``) a contract request is still
authenticated, banned, held and faulted as usual (a ``throttle`` rule still answers 429 with
``try-in-seconds``), and its body is still decoded (400 when it is not a JSON array, 413 above
``max_items``); but its items are only counted, never validated nor stored, and the answer is
Ortto's all-accepted ``{"errors": []}`` (``item_error`` rules still list their items). What a
benchmark needs is recorded instead, by :class:`LeanIntake`:

* every answer by the wall-clock second it was given in: requests, items, 429s;
* the first and last answer that carried items (the span of a delivery);
* each item's latency, from its ``timestamp`` (the event's, which a benchmark sets to the Kafka
  timestamp when it produces) to the moment the sandbox answers, in a histogram of 1 ms
  buckets up to ten minutes (bounded memory whatever the number of items; percentiles exact
  to the millisecond).

Reading a body costs the sink more than answering it: decoded whole (``orjson``), a request of
500 SDK-shaped items took 5-6 us of the sandbox's CPU per item, a third of what streamer spent
on the same item, on the same two cores. :meth:`LeanIntake.stamps` reads only what the intake
records: each item's ``timestamp``, with msgspec's typed decoder, which skips every other field
(checking its syntax) without building it, after the body's UTF-8 is checked. Whatever it cannot
read that way (not an array of objects, a ``timestamp`` that is not an RFC 3339 date-time,
invalid JSON) goes the general way, ``orjson.loads`` and :meth:`LeanIntake.take`, which answers
and records as before. The one body the two read differently: a number beyond a double's range
(``1e400``) in a field the intake does not read, which ``orjson`` refuses (400) and the fast path
skips.

Lifecycle: one per :class:`~streamer.sandbox.SandboxState` built with ``intake="lean"``; fed by
the server under the state's lock; emptied by the state's ``reset``; read back with
:meth:`LeanIntake.report` (``GET /_sandbox/intake``).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import accumulate
from typing import Any, Literal, TypedDict

import msgspec

__all__ = ["Intake", "IntakeReport", "LeanIntake"]

Intake = Literal["full", "lean"]
_CAP_MS = 600_000
"""Latencies above ten minutes land in the last bucket (a backlog's age, not a latency)."""


class IntakeReport(TypedDict):
    """What the lean intake recorded (``GET /_sandbox/intake``)."""

    requests: int
    """Contract requests answered (whatever the status)."""
    items: int
    """Items in the requests answered 2xx."""
    throttled: int
    """Requests answered 429."""
    first_answer: float | None
    """Wall-clock time (epoch seconds) of the first 2xx answer carrying items."""
    last_answer: float | None
    per_second: list[list[int]]
    """``[second, requests, items, throttled]`` for each wall-clock second with answers."""
    latency_ms: dict[str, float | int | None]
    """``count``, ``p50``, ``p90``, ``p99``, ``max`` of item latencies (None without items);
    ``unparsed``: items whose ``timestamp`` was absent or not a date-time."""


class _Stamped(msgspec.Struct):
    """What the intake reads of an item: its timestamp, nothing else."""

    timestamp: datetime | None = None


_read_stamps: Callable[[str], list[_Stamped]] = msgspec.json.Decoder(list[_Stamped]).decode
_unreadable: tuple[type[Exception], ...] = (msgspec.DecodeError, UnicodeDecodeError)


class LeanIntake:
    """Counters and latencies of a sink that answers without looking."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        """Wall-clock time (``time.time``): latencies are measured against item timestamps."""
        self.clear()

    def clear(self) -> None:
        self._seconds: dict[int, list[int]] = {}
        self._latency: dict[int, int] = {}
        """Milliseconds -> items: sparse, since latencies cluster (a few thousand keys)."""
        self._measured = 0
        self._unparsed = 0
        self.requests = self.items = self.throttled = 0
        self.first_answer: float | None = None
        self.last_answer: float | None = None

    @staticmethod
    def stamps(raw: bytes) -> Sequence[datetime | None] | None:
        """Each item's ``timestamp`` of a body that is a JSON array of objects whose timestamps
        are absent, null or RFC 3339 date-times; None for any other body (the general way:
        ``orjson.loads``, then :meth:`take`)."""
        try:
            return [item.timestamp for item in _read_stamps(raw.decode())]
        except _unreadable:
            return None

    def take(self, items: list[Any]) -> None:
        """Record the latency of each item of a request about to be answered."""
        parse = datetime.fromisoformat
        stamps: list[datetime | None] = []
        for item in items:
            stamp = item.get("timestamp") if type(item) is dict else None
            try:
                stamps.append(parse(stamp) if type(stamp) is str else None)
            except ValueError:
                stamps.append(None)
        self.take_stamps(stamps)

    def take_stamps(self, stamps: Sequence[datetime | None]) -> None:
        """Record the latency of each item (given by its timestamp, None where it has none)."""
        now_ms = self._clock() * 1000.0
        histogram = self._latency
        measured = 0
        for stamp in stamps:
            if stamp is None:
                continue
            bucket = min(_CAP_MS, max(0, int(now_ms - stamp.timestamp() * 1000.0)))
            histogram[bucket] = histogram.get(bucket, 0) + 1
            measured += 1
        self._measured += measured
        self._unparsed += len(stamps) - measured

    def answered(self, status: int | None, items: int) -> None:
        now = self._clock()
        second = self._seconds.get(int(now))
        if second is None:
            second = self._seconds[int(now)] = [0, 0, 0]
        second[0] += 1
        self.requests += 1
        if status == 429:
            second[2] += 1
            self.throttled += 1
        elif status is not None and 200 <= status < 300 and items:
            second[1] += items
            self.items += items
            if self.first_answer is None:
                self.first_answer = now
            self.last_answer = now

    def report(self) -> IntakeReport:
        latency: dict[str, float | int | None] = {
            "count": self._measured, "p50": None, "p90": None, "p99": None, "max": None,
            "unparsed": self._unparsed,
        }
        if self._measured:
            buckets = sorted(self._latency)
            cumulative = list(accumulate(self._latency[ms] for ms in buckets))
            for name, share in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)):
                rank = max(1, math.ceil(share * self._measured))
                latency[name] = buckets[bisect_left(cumulative, rank)]
        return {
            "requests": self.requests,
            "items": self.items,
            "throttled": self.throttled,
            "first_answer": self.first_answer,
            "last_answer": self.last_answer,
            "per_second": [[second, *counts] for second, counts in sorted(self._seconds.items())],
            "latency_ms": latency,
        }
