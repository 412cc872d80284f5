"""Generated JSON text for the tests that compare a shortcut with the full decode and route.

Objects are generated as lists of pairs, so keys may repeat; numbers, strings and keys lean to
the cases where JSON parsers part (big and odd numbers, unicode, NUL, the names the presets
read). :func:`mutate` then breaks the bytes as a producer might: truncated, invalid UTF-8 or a
bad escape inserted, a byte order mark, trailing bytes. Shared by ``tests/routing/test_screen.py``
and ``tests/bench/test_projection.py``.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

__all__ = ["EVENTS", "EVIL", "VALUES", "json_text", "mutate"]

_NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["-0", "-0.0", "1E2", "1e-400", "1e308", "2e308", "1e400", "5e-324",
                     "0.1000000000000000055511151231257827", "18446744073709551616",
                     "-9223372036854775809", "9" * 320, "1.5e+3"]),
)
_TEXT = st.text(max_size=12) | st.sampled_from(
    ["track", "identify", "page", "screen", "ip", "é", "\x00"])
_KEYS = st.sampled_from([
    "type", "event", "userId", "anonymousId", "messageId", "timestamp", "context", "traits",
    "properties", "integrations", "ip", "app", "namespace", "email", "total", "items", "page",
    "url", "library", "Ortto", "All", "plan", "a", "b", "c", "location", "country", "$",
]) | st.text(max_size=6)


def json_text(value: Any) -> str:
    """JSON text of a generated value: objects are lists of pairs (so keys may repeat)."""
    kind, content = value
    if kind == "number":
        return str(content)
    if kind == "text":
        return json.dumps(content)
    if kind == "literal":
        return content  # type: ignore[no-any-return]
    if kind == "array":
        return "[" + ",".join(json_text(v) for v in content) + "]"
    return "{" + ",".join(f"{json.dumps(k)}:{json_text(v)}" for k, v in content) + "}"


VALUES = st.recursive(
    st.tuples(st.just("number"), _NUMBERS) | st.tuples(st.just("text"), _TEXT)
    | st.tuples(st.just("literal"), st.sampled_from(["true", "false", "null"])),
    lambda inner: st.tuples(st.just("array"), st.lists(inner, max_size=4))
    | st.tuples(st.just("object"), st.lists(st.tuples(_KEYS, inner), max_size=5)),
    max_leaves=25,
)
"""A JSON value, as ``(kind, content)`` for :func:`json_text`."""

EVENTS = st.tuples(st.just("object"), st.lists(st.tuples(_KEYS, VALUES), max_size=10)).map(
    lambda pairs: ("object", [
        ("type", ("text", "track")), ("userId", ("text", "u1")), ("event", ("text", "E")),
        ("messageId", ("text", "m1")), ("timestamp", ("text", "2026-11-28T10:00:00.000Z")),
        *pairs[1],
    ]) if len(pairs[1]) % 2 else pairs,
)
"""A JSON object; half of them start as a track event the presets would deliver."""

EVIL = st.sampled_from([
    b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xc0\xaf", b"\\ud800",
    b"\\udc00", b"\\x", b"\x01", b'"', b"\\", b"\xef\xbb\xbf", b"1e400", b"\x00",
])
"""Bytes that break a value wherever they land: invalid UTF-8, lone surrogates, bad escapes."""


def mutate(value: bytes, data: st.DataObject) -> bytes:
    """``value`` truncated, with :data:`EVIL` bytes inserted or replacing one, a byte order mark
    in front, or bytes after it: as ``data`` draws."""
    at = data.draw(st.integers(min_value=0, max_value=len(value)))
    how = data.draw(st.sampled_from(["truncate", "insert", "replace", "bom", "trail"]))
    if how == "truncate":
        return value[:at]
    if how == "insert":
        return value[:at] + data.draw(EVIL) + value[at:]
    if how == "replace":
        return value[:at] + data.draw(EVIL) + value[at + 1:]
    if how == "bom":
        return b"\xef\xbb\xbf" + value
    return value + data.draw(st.sampled_from([b" x", b"{}", b"\n", b"\x00", b",", b" "]))
