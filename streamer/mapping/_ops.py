"""The value operations behind mapping-kit directives, shared by the compiler and the interpreter.

Each function is one step of a directive as Segment's ``@segment/actions-core`` performs it
(``@template`` rendering, ``@replace``'s literal replacement, ``@flatten``, ``@merge``'s
``Object.assign``, ``@excludeWhenNull``'s null cleaning, ``removeUndefined``, JSON decoding).
They are pure; they never mutate their arguments, and return new containers when they change
anything. :mod:`._directives` wires them into closures, :mod:`._interpret` calls them from a
plain tree walk, so the two can be compared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from .._exceptions import MappingError
from ._js import UNDEFINED, js_trim, keys_in_order, to_string, type_name, utf16_len
from ._paths import get_path, split_keys

__all__ = [
    "MAX_PATTERN_LENGTH",
    "MAX_REPLACEMENT_LENGTH",
    "Template",
    "assign",
    "change_case",
    "clean_nulls",
    "expect_string",
    "flatten",
    "json_decode",
    "placeholder_keys",
    "remove_undefined",
    "replace_literal",
    "strip_undefined",
]

MAX_PATTERN_LENGTH = 10
MAX_REPLACEMENT_LENGTH = 10

_TRIPLE = re.compile(r"\{\{\{([^}]+)\}\}\}")
_DOUBLE = re.compile(r"\{\{([^}]+)\}\}")


@lru_cache(maxsize=1024)
def placeholder_keys(name: str) -> tuple[str, ...]:
    """Keys of a ``{{ name }}`` placeholder: ``get(data, name.trim())``, ``$.`` kept."""
    return split_keys(js_trim(name))


def _placeholder_text(data: Any, keys: tuple[str, ...]) -> str:
    value = get_path(data, keys)
    return "" if value is None or value is UNDEFINED else to_string(value)


class Template:
    """A ``@template`` string, split once into literal text and placeholder look-ups.

    Segment replaces ``{{{x}}}`` first, then ``{{x}}`` in the *result*; a value inserted by
    the first pass can therefore create new placeholders for the second. Templates without
    triple braces (nearly all) render from the pre-split parts; the others redo the second
    pass on the text of the first.
    """

    __slots__ = ("_parts", "_triple")

    def __init__(self, source: str) -> None:
        self._triple = _split(_TRIPLE, source) if _TRIPLE.search(source) else None
        self._parts = _split(_DOUBLE, source) if self._triple is None else ()

    def render(self, data: Any) -> str:
        if self._triple is None:
            return _join(self._parts, data)
        first = _join(self._triple, data)
        return _join(_split(_DOUBLE, first), data)


Part = str | tuple[str, ...]


def _split(pattern: re.Pattern[str], source: str) -> tuple[Part, ...]:
    parts: list[Part] = []
    position = 0
    for match in pattern.finditer(source):
        if match.start() > position:
            parts.append(source[position : match.start()])
        parts.append(placeholder_keys(match.group(1)))
        position = match.end()
    if position < len(source):
        parts.append(source[position:])
    return tuple(parts)


def _join(parts: tuple[Part, ...], data: Any) -> str:
    return "".join(part if type(part) is str else _placeholder_text(data, part) for part in parts)  # type: ignore[arg-type]


def change_case(value: Any, operator: Any) -> Any:
    """``@case``: lower or upper a string; other values pass through unchanged."""
    if not isinstance(value, str):
        return value
    if operator == "lower":
        return value.lower()
    if operator == "upper":
        return value.upper()
    raise MappingError('@case: operator key should have a value of "lower" or "upper"')


def replace_literal(
    value: str, pattern: str, replacement: str, *, every: bool, ignorecase: bool
) -> str:
    """``@replace``: replace the literal ``pattern`` (first or every occurrence).

    The replacement text keeps JavaScript's ``$`` forms (``$$``, ``$&``, ``$```, ``$'``); the
    pattern has no groups, so ``$1`` stays as written.
    """
    if utf16_len(pattern) > MAX_PATTERN_LENGTH:
        raise MappingError(
            f'@replace requires a "pattern" less than {MAX_PATTERN_LENGTH} characters'
        )
    if utf16_len(replacement) > MAX_REPLACEMENT_LENGTH:
        raise MappingError(
            f'@replace requires a "replacement" less than {MAX_REPLACEMENT_LENGTH} characters'
        )
    regex = _literal_regex(pattern, ignorecase)
    if "$" not in replacement:
        return regex.sub(lambda _match: replacement, value, count=0 if every else 1)
    return regex.sub(_substitution(replacement, value), value, count=0 if every else 1)


@lru_cache(maxsize=256)
def _literal_regex(pattern: str, ignorecase: bool) -> re.Pattern[str]:
    return re.compile(re.escape(pattern), re.IGNORECASE if ignorecase else 0)


def _substitution(replacement: str, subject: str) -> Callable[[re.Match[str]], str]:
    def substitute(match: re.Match[str]) -> str:
        out: list[str] = []
        i = 0
        while i < len(replacement):
            char = replacement[i]
            following = replacement[i + 1 : i + 2]
            if char != "$" or following not in ("$", "&", "`", "'"):
                out.append(char)
                i += 1
                continue
            if following == "$":
                out.append("$")
            elif following == "&":
                out.append(match.group())
            elif following == "`":
                out.append(subject[: match.start()])
            else:
                out.append(subject[match.end() :])
            i += 2
        return "".join(out)

    return substitute


def flatten(value: Any, separator: str, omit_arrays: bool, prefix: str = "") -> dict[str, Any]:
    """``@flatten``: nested keys joined by ``separator``; leaves keep their values."""
    if isinstance(value, Mapping):
        entries: list[tuple[str, Any]] = [(k, value[k]) for k in keys_in_order(value)]
    elif isinstance(value, list) and not omit_arrays:
        entries = [(str(i), item) for i, item in enumerate(value)]
    else:
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, item in entries:
        flat.update(
            flatten(item, separator, omit_arrays, f"{prefix}{separator}{key}" if prefix else key)
        )
    return flat


def assign(objects: list[Any]) -> dict[str, Any]:
    """``Object.assign({}, ...objects)``: later keys win; strings and arrays spread by index."""
    merged: dict[str, Any] = {}
    for source in objects:
        if isinstance(source, Mapping):
            for key in keys_in_order(source):
                merged[key] = source[key]
        elif isinstance(source, list):
            for index, item in enumerate(source):
                merged[str(index)] = item
        elif isinstance(source, str):
            units = source.encode("utf-16-le", "surrogatepass")
            for index in range(len(units) // 2):
                merged[str(index)] = units[2 * index : 2 * index + 2].decode(
                    "utf-16-le", "surrogatepass"
                )
    return merged


def clean_nulls(value: Any) -> Any:
    """``@excludeWhenNull``'s cleaning: ``null`` object values become undefined, recursively."""
    if not isinstance(value, Mapping):
        return value
    cleaned: dict[str, Any] = {}
    for key, item in value.items():
        if item is None:
            cleaned[key] = UNDEFINED
        elif isinstance(item, Mapping):
            cleaned[key] = clean_nulls(item)
        else:
            cleaned[key] = item
    return cleaned


def remove_undefined(value: Any) -> Any:
    """Segment's ``removeUndefined``: undefined array items stay (``@transform`` sees them)."""
    if isinstance(value, Mapping):
        return {k: remove_undefined(v) for k, v in value.items() if v is not UNDEFINED}
    if isinstance(value, list):
        return [remove_undefined(item) for item in value]
    return value


def strip_undefined(value: Any) -> Any:
    """``removeUndefined`` then JSON: undefined object values go, undefined array items are null."""
    if isinstance(value, Mapping):
        return {k: strip_undefined(v) for k, v in value.items() if v is not UNDEFINED}
    if isinstance(value, list):
        return [None if item is UNDEFINED else strip_undefined(item) for item in value]
    return value


_MAX_SAFE_INT = 2**53


def _parse_int(text: str) -> int | float:
    number = int(text)
    return number if -_MAX_SAFE_INT <= number <= _MAX_SAFE_INT else float(number)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_decode(value: Any) -> Any:
    """``@json`` decode: ``JSON.parse`` of a string, the value itself when it is not JSON."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value, parse_int=_parse_int, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return value


def expect_string(directive: str, value: Any) -> str:
    """The check of Segment's string directives (``@path``, ``@template``)."""
    if isinstance(value, str):
        return value
    raise MappingError(f"{directive}: expected string, got {type_name(value)}")
