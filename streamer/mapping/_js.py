"""JavaScript value semantics over decoded JSON, as Segment's engines (Node.js) apply them.

Segment's trigger and mapping engines run on JavaScript values. A Python port that wants the
same answers has to reproduce the handful of JavaScript rules those engines lean on: the
``undefined`` value (distinct from ``null``), truthiness, ``Number(x)``, ``String(x)``,
property access on strings and arrays, loose equality with ``''``, ``JSON.stringify`` and the
order in which objects list their keys. Each helper here is one such rule, written for the
values ``json.loads``/``orjson.loads`` produce (dict, list, str, int, float, bool, None).

Nothing here is stateful; every function is pure. ``UNDEFINED`` is a singleton: compare it
with ``is``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "UNDEFINED",
    "Undefined",
    "is_array_index",
    "is_number",
    "js_trim",
    "json_stringify",
    "keys_in_order",
    "loose_ne_empty",
    "number_to_string",
    "property_of",
    "to_number",
    "to_string",
    "truthy",
    "type_name",
    "utf16_len",
]


class Undefined:
    """JavaScript's ``undefined``: the value of a missing key. Never part of a final output."""

    _instance: Undefined | None = None

    def __new__(cls) -> Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Final = Undefined()

_MAX_SAFE = 2**53
# JavaScript's WhiteSpace and LineTerminator code points (what String.prototype.trim removes).
_JS_SPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_RADIX = {"0x": 16, "0X": 16, "0o": 8, "0O": 8, "0b": 2, "0B": 2}
_DIGITS = {16: "0123456789abcdefABCDEF", 8: "01234567", 2: "01"}


def is_number(value: object) -> bool:
    """``typeof value === 'number'``: ints and floats, never booleans."""
    return type(value) is float or type(value) is int


def type_name(value: object) -> str:
    """Segment's ``realTypeOf``: object, array, string, number, boolean, null or undefined."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return "object"


def truthy(value: object) -> bool:
    """JavaScript truthiness: false, 0, NaN, "", null and undefined are falsy; {} and [] are not."""
    if value is None or value is UNDEFINED or value is False:
        return False
    if type(value) is str:
        return value != ""
    if type(value) is int:
        return value != 0
    if type(value) is float:
        return value != 0.0 and not math.isnan(value)
    return True


def _int_to_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def to_number(value: object) -> float:
    """JavaScript ``Number(value)`` (ToNumber), NaN where JavaScript gives NaN."""
    if value is None or value is False:
        return 0.0
    if value is True:
        return 1.0
    if type(value) is float:
        return value
    if type(value) is int:
        return _int_to_float(value)
    if isinstance(value, str):
        return _string_to_number(value)
    if isinstance(value, list | tuple):
        return _string_to_number(to_string(value))
    return math.nan


def _string_to_number(text: str) -> float:
    text = text.strip(_JS_SPACE)
    if not text:
        return 0.0
    if text in ("Infinity", "+Infinity"):
        return math.inf
    if text == "-Infinity":
        return -math.inf
    radix = _RADIX.get(text[:2])
    if radix is not None:
        digits = text[2:]
        if digits and all(c in _DIGITS[radix] for c in digits):
            return _int_to_float(int(digits, radix))
        return math.nan
    if _DECIMAL.fullmatch(text):
        return float(text)
    return math.nan


def number_to_string(value: float | int) -> str:
    """JavaScript ``Number.prototype.toString()``: ``1.0`` is ``"1"``, ``1e21`` is ``"1e+21"``."""
    if type(value) is int or isinstance(value, int):
        if -_MAX_SAFE <= value <= _MAX_SAFE:
            return str(value)
        value = _int_to_float(value)
    if math.isnan(value):
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    point = len(whole) + int(exponent or 0) - (len(whole + fraction) - len(digits))
    digits = digits.rstrip("0")
    count = len(digits)
    if count <= point <= 21:
        text = digits + "0" * (point - count)
    elif 0 < point <= 21:
        text = digits[:point] + "." + digits[point:]
    elif -6 < point <= 0:
        text = "0." + "0" * -point + digits
    else:
        power = point - 1
        head = digits[0] + ("." + digits[1:] if count > 1 else "")
        text = f"{head}e{'+' if power >= 0 else '-'}{abs(power)}"
    return sign + text


def to_string(value: object) -> str:
    """JavaScript ``String(value)``; arrays join their items with commas, objects are opaque."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return number_to_string(value)
    if isinstance(value, list | tuple):
        return ",".join(
            "" if item is None or item is UNDEFINED else to_string(item) for item in value
        )
    return "[object Object]"


def loose_ne_empty(value: object) -> bool:
    """JavaScript ``value != ''`` (loose equality, so ``0``, ``false`` and ``[]`` equal ``''``)."""
    if value is None or value is UNDEFINED:
        return True
    if isinstance(value, str):
        return value != ""
    if isinstance(value, bool | int | float):
        return to_number(value) != 0.0
    if isinstance(value, list | tuple):
        return to_string(value) != ""
    return True


def js_trim(text: str) -> str:
    """``String.prototype.trim``: JavaScript's whitespace set, not Python's."""
    return text.strip(_JS_SPACE)


def utf16_len(text: str) -> int:
    """``text.length`` in JavaScript: UTF-16 code units, so an emoji counts twice."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _utf16_unit(text: str, index: int) -> str | Undefined:
    if text.isascii():
        return text[index] if index < len(text) else UNDEFINED
    units = text.encode("utf-16-le", "surrogatepass")
    if 2 * index + 2 > len(units):
        return UNDEFINED
    return units[2 * index : 2 * index + 2].decode("utf-16-le", "surrogatepass")


def is_array_index(key: str) -> bool:
    """A canonical array index ("0", "17"; not "01" or "-1"), which JavaScript orders first."""
    if not key or not key.isdigit() or not key.isascii():
        return False
    return (key == "0" or key[0] != "0") and int(key) < 4294967295


def keys_in_order(obj: Mapping[str, Any]) -> list[str]:
    """Keys in JavaScript's order: array indexes ascending first, then insertion order."""
    keys = list(obj)
    if not any(k[:1].isdigit() for k in keys):
        return keys
    indexes = sorted((k for k in keys if is_array_index(k)), key=int)
    return indexes + [k for k in keys if not is_array_index(k)]


def property_of(value: object, key: str) -> Any:
    """``value[key]`` for a truthy JSON value: own keys, array indexes, ``length``."""
    if isinstance(value, Mapping):
        return value.get(key, UNDEFINED)
    if isinstance(value, list | tuple):
        if key == "length":
            return len(value)
        if is_array_index(key):
            index = int(key)
            return value[index] if index < len(value) else UNDEFINED
        return UNDEFINED
    if isinstance(value, str):
        if key == "length":
            return utf16_len(value)
        if is_array_index(key):
            return _utf16_unit(value, int(key))
    return UNDEFINED


_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\ud800-\udfff]')


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"


def _quote(text: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, text) + '"'


def json_stringify(value: object, indent: str = "", _level: str = "") -> str | Undefined:
    """``JSON.stringify(value, null, indent)``; ``UNDEFINED`` where JavaScript returns undefined."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, int | float):
        number = value if type(value) is int else float(value)
        if isinstance(number, float) and not math.isfinite(number):
            return "null"
        return number_to_string(number)
    inner = _level + indent
    newline = "\n" + inner if indent else ""
    closing = "\n" + _level if indent else ""
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        items = []
        for item in value:
            text = json_stringify(item, indent, inner)
            items.append("null" if text is UNDEFINED else text)
        return "[" + newline + ("," + newline).join(items) + closing + "]"  # type: ignore[arg-type]
    if isinstance(value, Mapping):
        colon = ": " if indent else ":"
        members = []
        for key in keys_in_order(value):
            text = json_stringify(value[key], indent, inner)
            if text is not UNDEFINED:
                members.append(_quote(str(key)) + colon + text)  # type: ignore[operator]
        if not members:
            return "{}"
        return "{" + newline + ("," + newline).join(members) + closing + "}"
    return UNDEFINED
