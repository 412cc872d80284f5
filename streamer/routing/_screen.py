"""The router's screen: which JSON values it would filter, told without decoding them.

Most of a topic may match no subscription (page and screen events, where only identify and
track are subscribed). Decoding such a value whole, only to read its ``type``, is most of its
cost. When the router dispatches on one top-level field (every trigger is ``field = "..."``
with distinct values: the presets' ``type``), its answer for an event depends on two top-level
members only: that field, and the ``integrations`` object. :class:`ValueScreen` checks the whole
value with simdjson's parser (structure, UTF-8, numbers, depth: about a quarter of orjson's
cost) and reads those two members with msgspec, typed to them (nothing else is built).
Together, on ~1 KB SDK-shaped page events: 0.68 of orjson's CPU (``bench/bench_screen.py``).

Exact, or nothing: ``screen(value)`` returns the router's answer (:data:`NO_MATCH` or
:data:`TURNED_OFF`) only when the full path, ``route(decode_json(value))``, would return that
very list; in every other case it returns ``None`` and the value is decoded whole as before,
which names any refusal. So the screen can only save work, never change an outcome:

- what simdjson accepts, orjson accepts too, with the same values, except a leading UTF-8 byte
  order mark (orjson refuses it, and so does msgspec). simdjson refuses more (integers
  beyond 64 bits, which orjson reads as floats; a depth of 1,024, which orjson reaches): those
  go the full path. ``tests/routing/test_screen.py`` holds the table and the generated proof;
- msgspec alone accepts what orjson refuses (invalid UTF-8 or numbers out of range in what it
  skips), hence simdjson's check first; a member named twice, msgspec keeps the last, as orjson;
- an event whose field is a routed value is not screened either: it is decoded and routed.

The dispatcher decides per poll batch whether to screen (``app/_dispatch.py``): a value the
screen passes on is parsed twice, so screening pays only where most values are filtered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgspec
import simdjson

from ..actions._scan import turns_off
from ._types import NO_MATCH, TURNED_OFF, Outcome

__all__ = ["ValueScreen"]


class ValueScreen:
    """``screen(value)``: the router's empty answer for a JSON value it would filter, else
    ``None`` (decode it whole). One per dispatcher: its parser's buffer is reused, so one
    thread only. ``field`` is not ``integrations``."""

    __slots__ = ("_check", "_honoured", "_names", "_read", "_values")

    def __init__(self, field: str, values: Iterable[str], names: tuple[str, ...] | None) -> None:
        self._values = frozenset(values)
        """The field's values some subscription matches: those events are decoded and routed."""
        self._names = names or ()
        """The destination's names in ``integrations``."""
        self._honoured = names is not None
        """Whether the ``integrations`` object is read at all."""
        self._check: Callable[[bytes], Any] = simdjson.Parser().parse
        # The two members only; a missing one reads as None, as the router's look-ups do.
        members = msgspec.defstruct(
            "Members", [("field", Any, None), ("integrations", Any, None)],
            rename={"field": field},
        )
        self._read: Callable[[bytes], Any] = msgspec.json.Decoder(members).decode

    def __call__(self, value: bytes) -> list[Outcome] | None:
        try:
            self._check(value)
            members = self._read(value)
        except Exception:  # any refusal: the full path names it (both raise several kinds)
            return None
        found = members.field
        # Segment's `=` needs a string: any other value, or none, matches no trigger.
        if found.__class__ is str and found in self._values:
            return None
        if self._honoured and turns_off(members.integrations, self._names):
            return TURNED_OFF
        return NO_MATCH
