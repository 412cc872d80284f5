"""The JavaScript value rules validation depends on: formats, coercion, type names.

Segment validates items with Ajv (``coerceTypes: "array"``) and the formats of ``ajv-formats``
2.x, on JavaScript values. To refuse and coerce exactly the same items, the few rules involved
are reproduced here for the values a JSON decoder produces (dict, list, str, int, float, bool,
None). Note that ``bool`` is an ``int`` in Python but never a number in JavaScript: every check
below tests exact types.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from ._scan import is_date_time, is_ipv4

__all__ = [
    "FORMAT_CHECKS",
    "FORMAT_LABELS",
    "describe_type",
    "is_date_time",
    "is_ipv4",
    "js_number_from_string",
    "js_string",
    "js_trim",
]

# JavaScript's WhiteSpace and LineTerminator code points (what String.prototype.trim removes and
# what `\s` matches in a JavaScript regular expression). Python's notion differs slightly.
JS_WHITESPACE: Final = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def js_trim(text: str) -> str:
    """``String.prototype.trim``."""
    return text.strip(JS_WHITESPACE)


# --- formats (ajv-formats 2.x, "full" mode): in _scan, compiled where the build can -------

FORMAT_CHECKS: Final[dict[str, Callable[[str], bool]]] = {
    "ipv4": is_ipv4,
    "date-time": is_date_time,
}
"""Format name -> check of a string value."""

FORMAT_LABELS: Final = {"ipv4": "IPv4 address", "date-time": "date and time"}
"""How Segment's messages name a format: ``... must be a valid IPv4 address string ...``."""


# --- types and coercion -----------------------------------------------------------------------


def describe_type(value: Any) -> str:
    """The JavaScript type of a JSON value, with its article, as Segment's messages say it."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is bool:
        return "a boolean"
    if kind is int or kind is float:
        return "a number"
    if kind is str:
        return "a string"
    if kind is list or kind is tuple:
        return "an array"
    return "an object"


def js_string(value: int | float | bool) -> str:
    """``String(value)`` for a boolean or a number."""
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is int:
        if -(2**53) <= value <= 2**53:
            return str(value)
        value = float(value)  # JavaScript holds every number as a double
    return _number_to_string(float(value))


def _number_to_string(number: float) -> str:
    # ECMAScript Number::toString: the shortest round-trip digits (Python's repr finds the same
    # ones), laid out in fixed notation between 1e-7 and 1e21, in exponent notation outside.
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    digits_tuple, exponent = Decimal(repr(abs(number))).as_tuple()[1:]
    digits = "".join(map(str, digits_tuple)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    # value = 0.digits * 10**point
    point = exponent + len("".join(map(str, digits_tuple)))
    k = len(digits)
    if k <= point <= 21:
        return sign + digits + "0" * (point - k)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    exp = point - 1
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{mantissa}e{'+' if exp >= 0 else '-'}{abs(exp)}"


_DECIMAL_LITERAL = re.compile(
    r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
).fullmatch
_RADIX_LITERAL = re.compile(r"0(?:[xX]([0-9a-fA-F]+)|[oO]([0-7]+)|[bB]([01]+))").fullmatch


def js_number_from_string(text: str) -> float | None:
    """``Number(text)``, or ``None`` where JavaScript gives ``NaN``."""
    body = js_trim(text)
    if not body:
        return 0.0
    if _DECIMAL_LITERAL(body):
        return float(body.replace("Infinity", "inf"))
    radix = _RADIX_LITERAL(body)
    if radix:
        hex_digits, oct_digits, bin_digits = radix.groups()
        if hex_digits:
            return float(int(hex_digits, 16))
        if oct_digits:
            return float(int(oct_digits, 8))
        return float(int(bin_digits, 2))
    return None


def json_number(number: float) -> int | float:
    """A JavaScript number as the JSON value to send: whole numbers without a fraction."""
    if number.is_integer() and abs(number) <= 2**53:
        return int(number)
    return number
