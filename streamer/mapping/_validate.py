"""Load-time validation of a mapping, with the checks (and messages) of Segment's mapping-kit.

Segment validates a mapping before using it and rejects it as a whole when one check fails;
other problems only surface when a directive runs (see :mod:`._directives`). This module
reproduces exactly the load-time set, so a mapping Segment accepts is accepted here and one
it rejects is rejected, with a message naming the JSON path of each problem, e.g.
``/premium/@case/value should be a string or a mapping directive but it is an object``.

What is checked: every value reachable through objects (arrays are not looked into, as in
Segment); a directive object has exactly one ``@`` key (plus an optional ``_metadata``) and a
known name; and per directive the option types below. Directive options such as ``@literal``'s
value or ``@excludeWhenNull``'s are only checked at their top.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._js import type_name, utf16_len
from ._ops import MAX_PATTERN_LENGTH, MAX_REPLACEMENT_LENGTH

__all__ = ["DIRECTIVE_NAMES", "validation_problems"]

Path = tuple[str, ...]
Check = Callable[[Any, Path, list[str]], None]
_MISSING = object()


def _kind(value: Any) -> str:
    """Segment's ``realTypeOrDirective``: an object with an ``@`` key is a directive."""
    if value is _MISSING:
        return "undefined"
    if isinstance(value, dict) and any(str(k).startswith("@") for k in value):
        return "directive"
    return type_name(value)


def _article(kind: str) -> str:
    return "an" if kind[:1] in "aeiou" else "a"


def _problem(problems: list[str], path: Path, message: str) -> None:
    problems.append(f"/{'/'.join(path)} {message}")


def _is_a(value: Any) -> str:
    kind = _kind(value)
    return f"{_article(kind)} {kind}"


def validate_any(value: Any, path: Path, problems: list[str]) -> None:
    kind = _kind(value)
    if kind == "directive":
        validate_directive(value, path, problems)
    elif kind == "object":
        validate_object(value, path, problems)


def validate_object(value: Any, path: Path, problems: list[str]) -> None:
    if _kind(value) != "object":
        _problem(problems, path, f"should be an object but it is {_is_a(value)}")
        return
    for key, item in value.items():
        validate_any(item, (*path, key), problems)


def validate_directive(value: Any, path: Path, problems: list[str]) -> None:
    if not isinstance(value, dict):
        _problem(problems, path, f"should be a directive object but it is {_is_a(value)}")
        return
    names = [k for k in value if k.startswith("@")]
    if len(names) > 1:
        _problem(
            problems, path, f"should only have one @-prefixed key but it has {len(names)} keys"
        )
        return
    if any(not k.startswith("@") and k != "_metadata" for k in value):
        _problem(
            problems, path, f"should only have one @-prefixed key but it has {len(value)} keys"
        )
        return
    name = names[0]
    check = _DIRECTIVES.get(name)
    if check is None:
        _problem(problems, path, f"has an invalid directive: {name}")
        return
    check(value[name], (*path, name), problems)


def _directive_or(wanted: str, *allowed: str, deep: bool = False) -> Check:
    """A directive (validated in turn) or a value of one of the ``allowed`` kinds.

    ``deep``: an allowed plain object is validated through (Segment does so only where it
    expects an object; a raw JSON value is taken as it is).
    """

    def check(value: Any, path: Path, problems: list[str]) -> None:
        kind = _kind(value)
        if kind == "directive":
            validate_directive(value, path, problems)
        elif kind == "object" and deep:
            validate_object(value, path, problems)
        elif kind not in allowed:
            _problem(problems, path, f"should be {wanted} but it is {_is_a(value)}")

    return check


_directive_or_raw = _directive_or(
    "a mapping directive or a JSON value", "object", "array", "boolean", "string", "number", "null"
)
_directive_or_string = _directive_or("a string or a mapping directive", "string")
_directive_or_object = _directive_or("an object or a mapping directive", "object", deep=True)


def _string(minimum: int = 0, maximum: int | None = None) -> Check:
    def check(value: Any, path: Path, problems: list[str]) -> None:
        if _kind(value) != "string":
            _problem(problems, path, f"should be a string but it is {_is_a(value)}")
        elif utf16_len(value) < minimum:
            _problem(problems, path, f"should be a string of length {minimum} or greater")
        elif maximum is not None and utf16_len(value) > maximum:
            _problem(problems, path, f"should be a string of length {maximum} or less")

    return check


def _one_of(*allowed: str) -> Check:
    def check(value: Any, path: Path, problems: list[str]) -> None:
        if _kind(value) != "string":
            _problem(problems, path, f"should be a string but it is {_is_a(value)}")
        elif value.lower() not in allowed:
            _problem(problems, path, f"should be one of {', '.join(allowed)} but it is {value!r}")

    return check


def _boolean(value: Any, path: Path, problems: list[str]) -> None:
    if _kind(value) != "boolean":
        _problem(problems, path, f"should be a boolean but it is {_is_a(value)}")


def _array(value: Any, path: Path, problems: list[str]) -> None:
    if _kind(value) != "array":
        _problem(problems, path, f"should be an array but it is {_is_a(value)}")


def _fields(required: dict[str, Check], optional: dict[str, Check]) -> Check:
    """An options object: every value validated, then the named fields' own checks."""

    def check(value: Any, path: Path, problems: list[str]) -> None:
        before = len(problems)
        validate_object(value, path, problems)
        if len(problems) > before:
            return
        for field, field_check in required.items():
            if field not in value:
                _problem(problems, path, f'should have field "{field}" but it doesn\'t')
            else:
                field_check(value[field], (*path, field), problems)
        for field, field_check in optional.items():
            if field in value:
                field_check(value[field], (*path, field), problems)

    return check


def _array_path(value: Any, path: Path, problems: list[str]) -> None:
    if _kind(value) != "array":
        _problem(problems, path, f"should be an array but it is {_is_a(value)}")
        return
    _directive_or_string(value[0] if value else _MISSING, path, problems)
    if len(value) > 1:
        validate_any(value[1], path, problems)


def _merge(value: Any, path: Path, problems: list[str]) -> None:
    before = len(problems)
    _fields({"objects": _array}, {"direction": _one_of("left", "right")})(value, path, problems)
    if len(problems) > before:
        return
    for index, item in enumerate(value["objects"]):
        _directive_or_object(item, (*path, "objects", str(index)), problems)


_DIRECTIVES: dict[str, Check] = {
    "@if": _fields(
        {}, {"exists": _directive_or_raw, "then": _directive_or_raw, "else": _directive_or_raw}
    ),
    "@case": _fields({}, {"operator": _string(), "value": _directive_or_string}),
    "@replace": _fields(
        {"pattern": _string(1, MAX_PATTERN_LENGTH), "value": _directive_or_string},
        {
            "replacement": _string(0, MAX_REPLACEMENT_LENGTH),
            "ignorecase": _boolean,
            "global": _boolean,
        },
    ),
    "@arrayPath": _array_path,
    "@path": _directive_or_string,
    "@json": _fields({"value": _directive_or_raw, "mode": _one_of("encode", "decode")}, {}),
    "@flatten": _fields({"value": _directive_or_raw}, {"separator": _string()}),
    "@merge": _merge,
    "@template": _directive_or_string,
    "@literal": _directive_or_raw,
    "@transform": _fields({"apply": _directive_or_object, "mapping": _directive_or_object}, {}),
    "@excludeWhenNull": _directive_or_raw,
    "@liquid": _string(),
}

DIRECTIVE_NAMES = frozenset(_DIRECTIVES)


def validation_problems(mapping: Any) -> list[str]:
    """Every load-time problem of ``mapping`` (empty when Segment would accept it)."""
    problems: list[str] = []
    validate_any(mapping, (), problems)
    return problems
