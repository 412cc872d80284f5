"""A JSON decoder that builds only what the subscriptions read (an experiment, not wired in).

Lifecycle: :func:`projected_decoder` runs once at start-up with the paths the compiled
triggers and mappings read (:func:`streamer.routing.event_reads`, a tree of keys). It turns
them into nested ``TypedDict`` types for msgspec: at each level only the keys read, a key read
whole typed ``Any``, a key read deeper typed "that level's ``TypedDict`` or any other JSON
value" (a ``context`` that is a string stays that string). msgspec checks the syntax of all the
rest while skipping it and gives plain ``dict`` objects, so the mapping engine's generated code
(``payload.__class__ is dict``) takes the same paths as on a full decode.

The decoder per value: msgspec decodes the projection; then three checks cover what msgspec
does not check in the parts it skips, and which orjson (the full decoder, ``_decode.py``)
refuses or reads differently:

- UTF-8: msgspec does not validate skipped strings and keys. A value that is not ASCII is
  decoded as UTF-8 once (Python's decoder refuses what orjson refuses: surrogates, overlongs,
  truncated sequences).
- numbers: orjson refuses a number that overflows a double (``1e400``, a 400-digit integer)
  and reads an integer outside 64 bits as a float; msgspec skips the first and reads the second
  as an ``int``. A value holding a run of 19 digits, or an exponent of three digits or more,
  goes to the full decoder.
- depth: orjson refuses 1024 levels; msgspec stops at the interpreter's recursion limit, which
  may be higher. A value long enough to nest that deep, with that many brackets, goes to the
  full decoder.

Whatever msgspec refuses (invalid JSON, a top level that is not an object, a BOM, trailing
bytes, NaN, a lone surrogate escape, recursion) also goes to the full decoder: it says why, with
the reasons the dead letters always had, or decodes what msgspec could not type. Every doubt
costs a full decode, never a different answer. Duplicate keys: msgspec keeps the last one, as
orjson does; a key read partially is replaced as a whole by its last occurrence.

Not wired into the pipeline: measured on ~1 KB SDK-shaped events (``bench/bench_projection.py``)
msgspec's projection alone takes about 0.6 of orjson's full decode, but the three checks are
byte scans done in Python's ``bytes`` methods and cost more than it saves (the whole decoder:
about 1.8 of the full decode). It stays as the measured, proven reference for a cheaper
validator (see "Decoding stays whole" in ``docs/design-decisions.md``); the pipeline decodes
with ``decode_json``.
"""

from __future__ import annotations

from typing import Any, TypedDict, Union

import msgspec

from streamer.source import Decoder, decode_json

__all__ = ["projected_decoder"]

PathTree = dict[str, "PathTree | None"]

_OTHER: tuple[Any, ...] = (list[Any], str, int, float, bool, None)
"""What a value on a read path may be instead of an object (kept whole, as decoded)."""

_NUMBERS = bytes(
    0x30 if 0x30 <= byte <= 0x39
    else 0x65 if byte in b"eE"
    else 0x2B if byte in b"+-"
    else 0x20
    for byte in range(256)
)
"""Digits to ``0``, exponent letters to ``e``, signs to ``+``, all else to a space."""
_LONG_DIGITS = b"0" * 19
"""19 digits: the shortest integer orjson may read as a float (over 2**64 - 1 or under -2**63)."""
_BIG_EXPONENTS = (b"e000", b"e+000")
_DEEP_BYTES = 2048
"""Fewer bytes cannot nest 1024 levels deep (an opening and a closing bracket each)."""
_DEEP_BRACKETS = 900


def projected_decoder(reads: PathTree | None) -> Decoder:
    """The decoder keeping ``reads`` of each event (``None``: the full decoder)."""
    if reads is None:
        return decode_json
    decode = msgspec.json.Decoder(_typed(reads, "Event")).decode
    numbers, long_digits = _NUMBERS, _LONG_DIGITS
    big_e, big_signed_e = _BIG_EXPONENTS
    full = decode_json

    def decode_projected(value: bytes | None) -> dict[str, Any]:
        if value is None:
            return full(value)
        if not value.isascii():
            try:
                value.decode()
            except UnicodeDecodeError:
                return full(value)
        shape = value.translate(numbers)
        if long_digits in shape or big_e in shape or big_signed_e in shape:
            return full(value)
        if len(value) >= _DEEP_BYTES and value.count(b"[") + value.count(b"{") >= _DEEP_BRACKETS:
            return full(value)
        try:
            event: dict[str, Any] = decode(value)
        except (msgspec.MsgspecError, RecursionError):
            return full(value)
        return event

    return decode_projected


def _typed(tree: PathTree, name: str) -> Any:
    fields: dict[str, Any] = {}
    for index, (key, below) in enumerate(tree.items()):
        if below is None:
            fields[key] = Any
        else:
            fields[key] = Union[(_typed(below, f"{name}_{index}"), *_OTHER)]
    return TypedDict(name, fields, total=False)  # type: ignore[operator]
