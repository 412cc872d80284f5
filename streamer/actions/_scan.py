"""The per-item scans every accepted event pays for: empty keys, IPv4 and date-time formats, and
the per-event check of an event's ``integrations`` object.

These few functions run on every item of the hot path and do nothing dynamic, so the build
compiles this module to C with mypyc (see ``setup.py``), which makes them 2-4x cheaper in
instructions (``bench/bench_mapping.py`` prints which flavour it ran). Where no compiler is at
hand the build falls back to this file as plain Python, with the same answers; ``COMPILED``
tells which one was imported, and the tests compare the two flavours on the same inputs.

Rules for this file: plain typed Python that mypyc compiles (no decorators, no dynamic
attributes), no imports from the rest of streamer, and a test in
``tests/actions/test_scan.py`` for anything added. Where the fastest algorithm differs between
compiled and interpreted code (``is_ipv4``), both are kept and the module binds one at import.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

__all__ = [
    "COMPILED",
    "complete_date_time_check",
    "has_empty_key",
    "is_date_time",
    "is_ipv4",
    "turns_off",
    "without_empty_keys",
]

COMPILED: Final = not __file__.endswith(".py")
"""Whether this module runs compiled (mypyc) rather than interpreted."""


# --- empty keys --------------------------------------------------------------------------------


def has_empty_key(obj: dict[str, Any]) -> bool:
    """Whether ``obj`` or an object nested in it through objects (not arrays) has the key ``""``."""
    if "" in obj:
        return True
    # A plain loop: any() over a generator costs a frame per call when interpreted.
    for value in obj.values():  # noqa: SIM110
        if type(value) is dict and has_empty_key(value):
            return True
    return False


def without_empty_keys(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``obj`` without ``""`` keys at any object level (arrays are left as they are)."""
    return {
        key: without_empty_keys(value) if type(value) is dict else value
        for key, value in obj.items()
        if key != ""
    }


# --- ipv4 (ajv-formats 2.1.1: four dotted decimal octets of one to three digits, at most 255) ---

# ajv-formats 2.1.1 tests each octet with ``25[0-5]|2[0-4]\d|[01]?\d\d?`` in one ``^...$`` pattern
# (no ``m`` flag: ``$`` is the end of the text, a trailing newline fails). An octet is one to
# three ASCII digits worth at most 255, so leading zeros are fine (``001``, ``00``) but a fourth
# digit is not (``0001``); these are the 366 strings that spelling accepts.
_OCTETS: Final = frozenset(
    f"{n:0{width}d}" for width in (1, 2, 3) for n in range(min(256, 10**width))
)


def _ipv4_by_parts(text: str) -> bool:
    # Interpreted, the C-level split and set lookups beat a loop over characters.
    parts = text.split(".")
    return (
        len(parts) == 4
        and parts[0] in _OCTETS
        and parts[1] in _OCTETS
        and parts[2] in _OCTETS
        and parts[3] in _OCTETS
    )


def _ipv4_by_chars(text: str) -> bool:
    # Compiled, one pass over the characters allocates nothing and is ~4x cheaper.
    size = len(text)
    if size < 7 or size > 15:
        return False
    dots = 0
    value = 0
    digits = 0
    for i in range(size):
        code = ord(text[i])
        if 48 <= code <= 57:
            digits += 1
            value = value * 10 + code - 48
            if digits > 3 or value > 255:
                return False
        elif code == 46 and digits > 0 and dots < 3:
            dots += 1
            value = 0
            digits = 0
        else:
            return False
    return dots == 3 and digits > 0


# The ``ipv4`` format of ajv-formats 2.1.1. Chosen once here, not per call: interpreted, a
# wrapper would cost a frame per item.
is_ipv4: Final = _ipv4_by_chars if COMPILED else _ipv4_by_parts


# --- integrations (Segment's rule; see streamer/routing/_integrations.py) -------------------------


def turns_off(integrations: Any, names: tuple[str, ...]) -> bool:
    """Whether an event's ``integrations`` value turns off the destination called ``names``.

    The first of ``names`` present decides (only the boolean ``false`` turns it off), else
    ``All`` does (``false``: off); a value that is not an object turns nothing off.
    """
    if not isinstance(integrations, dict):
        return False
    for name in names:
        if name in integrations:
            return integrations[name] is False
    return integrations.get("All") is False


# --- date-time (ajv-formats 2.x, "full" mode) ---------------------------------------------------

# JavaScript's WhiteSpace and LineTerminator code points: `\s` in a JavaScript regular expression.
_JS_SPACES: Final = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_JS_SPACE_CLASS: Final = "".join(f"\\u{ord(c):04x}" for c in _JS_SPACES)
# ajv-formats splits a date-time on one separator (`t`, `T` or whitespace) into a full-date and a
# time; neither part can contain a separator, so one pattern with exactly one separator is the
# same test. The time zone is optional in ajv-formats 2.x (its check never rejects a missing one).
_DATE_TIME: Final = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[tT" + _JS_SPACE_CLASS + r"]"
    r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?(?:[zZ]|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
_DAYS: Final = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


# Bound once: a module attribute, not a method looked up on the class per call.
_FROM_ISO_FORMAT: Final = datetime.fromisoformat


def is_date_time(text: str) -> bool:
    """The ``date-time`` format of ajv-formats 2.x (RFC 3339, calendar-checked)."""
    # Fast path for the shape nearly every timestamp has (YYYY-MM-DDTHH:MM:SS[.fff]Z): with the
    # separators pinned, Python's C parser accepts exactly what ajv-formats accepts (ASCII
    # digits, real calendar days, hour <= 23, minute and second <= 59); anything else, such as a
    # leap second, goes through the complete check. (Python ignores fraction digits beyond the
    # sixth and accepts an empty fraction: hence the length bounds.) The separators are tested
    # one character at a time: compiled, that reads characters in place, where a slice
    # (``text[4:17:3]``) allocated a slice and a string on every call.
    size = len(text)
    if (
        (size == 20 or (22 <= size <= 27 and text[19] == "."))
        and text[size - 1] == "Z"
        and text[4] == "-" and text[7] == "-" and text[10] == "T"
        and text[13] == ":" and text[16] == ":"
    ):
        try:
            _FROM_ISO_FORMAT(text)
        except ValueError:
            pass
        else:
            return True
    return complete_date_time_check(text)


def complete_date_time_check(text: str) -> bool:
    """ajv-formats' ``date-time`` check, rule by rule (the reference for the fast path)."""
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(g) for g in match.groups())
    if not 1 <= month <= 12 or day < 1:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if day > (29 if month == 2 and leap else _DAYS[month]):
        return False
    return (hour <= 23 and minute <= 59 and second <= 59) or (
        hour == 23 and minute == 59 and second == 60
    )
