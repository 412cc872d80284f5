"""Liquid filters with liquidjs's behaviour, registered on the python-liquid environment.

Segment renders ``@liquid`` with liquidjs, whose filters work on JavaScript values: a
boolean prints as ``true``, ``2.0`` as ``2``, an object as ``[object Object]``, ``times``
turns ``"3"`` or ``["3"]`` into 3 and anything unparsable into 0, ``size`` of an object is
0, ``truncate`` counts code points. python-liquid's own filters follow Ruby instead, so the
filters whose results differ are replaced here by versions written to liquidjs's documented
behaviour. Filters not listed keep python-liquid's implementation.

Every filter takes the raw value python-liquid resolved (``Undefined`` for a missing
variable) and returns a plain value; the output node stringifies it the liquidjs way.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from liquid.exceptions import FilterArgumentError

from ._js import UNDEFINED, js_trim, json_stringify, number_to_string, to_number, to_string, truthy
from ._liquid_dates import date_filter
from ._liquid_values import liquid_string, plain

__all__ = ["JS_FILTERS"]


def _number(value: Any) -> float:
    """liquidjs ``toNumber``: ``+value || 0``."""
    number = to_number(plain(value))
    return 0.0 if math.isnan(number) else number


def _js_number(value: float) -> float | int:
    """Whole floats as ints, so they print and compare like JavaScript numbers."""
    if math.isfinite(value) and value == int(value):
        return int(value)
    return value


def _math(operation: Callable[..., float]) -> Callable[..., float | int]:
    def apply(*args: Any) -> float | int:
        return _js_number(operation(*(_number(arg) for arg in args)))

    return apply


def _divide(dividend: float, divisor: float, integer: float = 0.0) -> float:
    if divisor == 0:
        quotient = (
            math.nan
            if dividend == 0 or math.isnan(dividend)
            else math.copysign(math.inf, dividend) * math.copysign(1.0, divisor)
        )
    else:
        quotient = dividend / divisor
    return math.floor(quotient) if integer and math.isfinite(quotient) else quotient


def _modulo(value: float, divisor: float) -> float:
    if divisor == 0:
        return math.nan
    return math.fmod(math.fmod(value, divisor) + divisor, divisor)


def _js_round(value: float) -> float:
    floor = math.floor(value)
    return floor + 1 if value - floor >= 0.5 else floor


def _shift(value: float, exponent: int) -> float:
    mantissa, _, power = number_to_string(value).partition("e")
    return to_number(f"{mantissa}e{int(power or 0) + exponent}")


def _round(value: Any, places: Any = 0) -> float | int:
    number, digits = _number(value), int(_number(places))
    scaled = _shift(abs(number), digits)
    if not scaled <= 2**53 - 1:
        return _js_number(number)
    rounded = _shift(_js_round(scaled), -digits)
    return _js_number(-rounded if number < 0 else rounded)


def _size(value: Any) -> int:
    value = plain(value)
    if not truthy(value):
        return 0
    if isinstance(value, str):
        return len(value.encode("utf-16-le", "surrogatepass")) // 2
    if isinstance(value, list | tuple):
        return len(value)
    if isinstance(value, Mapping):
        length = value.get("length", 0)
        return length if truthy(length) else 0
    return 0


def _first(value: Any) -> Any:
    value = plain(value)
    if isinstance(value, list | tuple):
        return value[0] if value else UNDEFINED
    if isinstance(value, str):
        return value[0] if value else ""
    return ""


def _last(value: Any) -> Any:
    value = plain(value)
    if isinstance(value, list | tuple):
        return value[-1] if value else UNDEFINED
    if isinstance(value, str):
        return value[-1] if value else ""
    return ""


def _as_array(value: Any) -> list[Any]:
    value = plain(value)
    if value is None or value is UNDEFINED:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _join(value: Any, separator: Any = UNDEFINED) -> str:
    separator = plain(separator)
    glue = " " if separator is None or separator is UNDEFINED else liquid_string(separator)
    return glue.join(
        "" if item is None or item is UNDEFINED else to_string(plain(item))
        for item in _as_array(value)
    )


def _compact(value: Any) -> list[Any]:
    return [
        item
        for item in _as_array(value)
        if plain(item) is not None and plain(item) is not UNDEFINED
    ]


def _split(value: Any, separator: Any = UNDEFINED) -> list[str]:
    text, glue = liquid_string(value), liquid_string(separator)
    parts = list(text) if glue == "" else text.split(glue)
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def _two_args(name: str, combine: Callable[[str, str], str]) -> Callable[..., str]:
    def apply(value: Any, *args: Any) -> str:
        if len(args) != 1:
            raise FilterArgumentError(f"{name} expect 2 arguments", token=None)
        return combine(liquid_string(value), liquid_string(args[0]))

    return apply


def _strip_chars(text: str, chars: Any, *, left: bool, right: bool) -> str:
    if plain(chars) in (None, UNDEFINED, ""):
        if left and right:
            return js_trim(text)
        spaces = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
        spaces += "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
        return text.lstrip(spaces) if left else text.rstrip(spaces)
    allowed = liquid_string(chars)
    if left:
        text = text.lstrip(allowed)
    return text.rstrip(allowed) if right else text


def _replace_all(value: Any, pattern: Any = UNDEFINED, replacement: Any = UNDEFINED) -> str:
    text, old, new = liquid_string(value), liquid_string(pattern), liquid_string(replacement)
    return new.join(text) if old == "" else text.replace(old, new)


def _replace_first(value: Any, pattern: Any = UNDEFINED, replacement: Any = UNDEFINED) -> str:
    return liquid_string(value).replace(liquid_string(pattern), liquid_string(replacement), 1)


def _replace_last(value: Any, pattern: Any = UNDEFINED, replacement: Any = UNDEFINED) -> str:
    text, old = liquid_string(value), liquid_string(pattern)
    index = text.rfind(old)
    if index < 0:
        return text
    return text[:index] + liquid_string(replacement) + text[index + len(old) :]


def _truncate(value: Any, length: Any = 50, ellipsis: Any = "...") -> Any:
    text, tail, limit = liquid_string(value), liquid_string(ellipsis), _number(length)
    if len(text) <= limit:
        return plain(value)
    return text[: max(int(limit) - len(tail), 0)] + tail


def _truncatewords(value: Any, words: Any = 15, ellipsis: Any = "...") -> str:
    parts = re.split(r"\s+", liquid_string(value).lstrip())
    count = max(int(_number(words)), 1)
    kept = " ".join(parts[:count])
    return kept + liquid_string(ellipsis) if len(parts) >= count else kept


def _slice(value: Any, begin: Any = 0, length: Any = 1) -> Any:
    value = plain(value)
    if value is None or value is UNDEFINED:
        return []
    sequence: list[Any] | str = (
        list(value) if isinstance(value, list | tuple) else liquid_string(value)
    )
    start, count = int(_number(begin)), int(_number(length))
    if start < 0:
        start += len(sequence)
    if start < 0 or count < 0:
        return [] if isinstance(sequence, list) else ""
    return sequence[start : start + count]


def _default(value: Any, fallback: Any = UNDEFINED, **options: Any) -> Any:
    value = plain(value)
    if isinstance(value, list | tuple | str):
        return value if value else fallback
    if value is False and options.get("allow_false"):
        return False
    return fallback if value is None or value is False or value is UNDEFINED else value


def _json(value: Any, space: Any = 0) -> Any:
    space = plain(space)
    width = 0 if isinstance(space, str) else max(0, min(10, int(_number(space))))
    indent = space[:10] if isinstance(space, str) else " " * width
    return json_stringify(_plain_deep(value), indent)


def _plain_deep(value: Any) -> Any:
    value = plain(value)
    if isinstance(value, Mapping):
        return {key: _plain_deep(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_deep(item) for item in value]
    return value


_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"}


def _escape(value: Any) -> str:
    return re.sub(r"[&<>\"']", lambda m: _HTML[m.group()], liquid_string(value))


def _url_encode(value: Any) -> str:
    return urllib.parse.quote(liquid_string(value), safe="-_.!~*'()").replace("%20", "+")


JS_FILTERS: dict[str, Callable[..., Any]] = {
    "abs": _math(abs),
    "at_least": _math(max),
    "at_most": _math(min),
    "ceil": _math(math.ceil),
    "floor": _math(math.floor),
    "divided_by": _math(_divide),
    "minus": _math(lambda a, b=0.0: a - b),
    "plus": _math(lambda a, b=0.0: a + b),
    "times": _math(lambda a, b=0.0: a * b),
    "modulo": _math(_modulo),
    "round": _round,
    "size": _size,
    "first": _first,
    "last": _last,
    "join": _join,
    "compact": _compact,
    "split": _split,
    "append": _two_args("append", lambda a, b: a + b),
    "prepend": _two_args("prepend", lambda a, b: b + a),
    "capitalize": lambda v: (s := liquid_string(v))[:1].upper() + s[1:].lower(),
    "downcase": lambda v: liquid_string(v).lower(),
    "upcase": lambda v: liquid_string(v).upper(),
    "strip": lambda v, chars=UNDEFINED: _strip_chars(
        liquid_string(v), chars, left=True, right=True
    ),
    "lstrip": lambda v, chars=UNDEFINED: _strip_chars(
        liquid_string(v), chars, left=True, right=False
    ),
    "rstrip": lambda v, chars=UNDEFINED: _strip_chars(
        liquid_string(v), chars, left=False, right=True
    ),
    "strip_newlines": lambda v: re.sub(r"\r?\n", "", liquid_string(v)),
    "remove": lambda v, arg=UNDEFINED: _replace_all(v, arg, ""),
    "remove_first": lambda v, arg=UNDEFINED: _replace_first(v, arg, ""),
    "remove_last": lambda v, arg=UNDEFINED: _replace_last(v, arg, ""),
    "replace": _replace_all,
    "replace_first": _replace_first,
    "replace_last": _replace_last,
    "truncate": _truncate,
    "truncatewords": _truncatewords,
    "slice": _slice,
    "default": _default,
    "json": _json,
    "jsonify": _json,
    "to_integer": lambda v: _js_number(to_number(plain(v))),
    "escape": _escape,
    "url_encode": _url_encode,
    "date": date_filter,
}
