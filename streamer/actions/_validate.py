"""Validation of a mapped item against its action's fields, as Segment's framework does it.

Segment turns an action's fields into a JSON schema and, for each mapped payload, (1) removes
``null`` where a field does not allow it and ``""`` where a field is not a string, then
(2) validates with Ajv (``coerceTypes: "array"``, ``removeAdditional``, all errors), which
coerces scalars in place and silently drops keys that are not fields. Problems are reported in
schema order: conditionally required fields first, then required fields, then each field's
value in field order; the messages are joined with a space. That order and those messages are
reproduced here, since Segment's answers are the specification.

Lifecycle: one :class:`Validator` per action, built at start-up. Calling it returns the item to
send (possibly a new dict: the caller's nested objects are never modified, since they can be
shared with the event and with other routes) or a :class:`Refusal`.

Two paths give the same answers: a fast one that only proves an item needs no change (the
common case: every key a field, every value already of its type and format), and a complete one
that applies the removals, coercions and messages. Tests check they agree. (Routes go one step
further: :mod:`._specialise` drops what their mapping already guarantees.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from ._model import Field, FieldType, Refusal
from ._values import (
    FORMAT_CHECKS,
    FORMAT_LABELS,
    describe_type,
    js_number_from_string,
    js_string,
    json_number,
)

__all__ = ["Validator"]

_NONE = type(None)
_PY_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "object": (dict,),
    "null": (_NONE,),
}
_COERCIBLE: Final = frozenset({"string", "number", "integer", "boolean", "null"})
_ARTICLE: Final = {"object": "an", "array": "an", "integer": "an"}

_FastCheck = Callable[[Any], bool]


class Validator:
    """The compiled schema of one action's fields."""

    __slots__ = ("_conditional", "_fast", "_fields", "_keys", "_required")

    def __init__(self, fields: Sequence[Field]) -> None:
        self._fields = tuple(fields)
        self._keys = frozenset(f.key for f in self._fields)
        self._conditional = tuple(
            (f.key, f.required_unless) for f in self._fields if f.required_unless
        )
        self._required = tuple(f.key for f in self._fields if f.required)
        self._fast: dict[str, tuple[tuple[type, ...], _FastCheck | None]] = {
            f.key: (_py_types(f), _fast_check(f)) for f in self._fields
        }

    def __call__(self, item: dict[str, Any]) -> dict[str, Any] | Refusal:
        fast = self._fast
        for key, value in item.items():
            spec = fast.get(key)
            if spec is None or type(value) not in spec[0]:
                return self.complete(item)
            check = spec[1]
            if check is not None and not check(value):
                return self.complete(item)
        for key, other in self._conditional:
            if key not in item and item.get(other, "") == "":
                return self.complete(item)
        for key in self._required:
            if key not in item:
                return self.complete(item)
        return item

    def literal_problems(self, key: str, value: Any) -> list[str]:
        """What validation would say about the constant ``value`` mapped to field ``key``.

        Used at start-up: a literal the field refuses would refuse every event.
        """
        field = next((f for f in self._fields if f.key == key), None)
        if field is None:
            return [f"{key!r} is not a field"]
        container = {key: value}
        _remove_empty(container, field)
        problems: list[str] = []
        if key in container:
            _check(container[key], field, problems)
        return problems

    def complete(self, item: dict[str, Any]) -> dict[str, Any] | Refusal:
        """Segment's full procedure: removals, checks in schema order, coercion, messages."""
        payload = dict(item)
        for f in self._fields:
            if f.key in payload:
                _remove_empty(payload, f)
        problems: list[str] = []
        for key, other in self._conditional:
            # Ajv's `if`: the other field is undefined (or empty), `then`: this one is required.
            if key not in payload and payload.get(other, "") == "":
                problems.append(f"The root value is missing the required field '{key}'.")
                problems.append('The root value must match "then" schema.')
        for key in self._required:
            if key not in payload:
                problems.append(f"The root value is missing the required field '{key}'.")
        for f in self._fields:
            if f.key in payload:
                payload[f.key] = _check(payload[f.key], f, problems)
        if problems:
            return Refusal(400, " ".join(problems))
        if not payload.keys() <= self._keys:
            payload = {k: v for k, v in payload.items() if k in self._keys}
        return payload


def _py_types(f: Field) -> tuple[type, ...]:
    return tuple(t for name in f.json_types for t in _PY_TYPES[name])


def _fast_check(f: Field) -> _FastCheck | None:
    """A check that passes only when the value needs no change and raises no problem.

    It runs after the value's type was found among the field's types, so it only tests what the
    type does not say; it is the leanest callable that does (this runs for every item).
    """
    checks: list[_FastCheck] = []
    if f.format is not None:
        test = FORMAT_CHECKS[f.format]
        if f.allow_null:
            checks.append(lambda v: v is None or test(v))
        else:
            checks.append(test)
    if f.choices:
        allowed = frozenset((*f.choices, None) if f.allow_null else f.choices)
        checks.append(allowed.__contains__)
    if f.properties is not None:
        checks.append(_fast_object_check(f.properties, closed=not f.additional_properties))
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(check(v) for check in checks)


def _fast_object_check(properties: tuple[Field, ...], *, closed: bool) -> _FastCheck:
    parts = {p.key: (_py_types(p), _fast_check(p)) for p in properties}
    simple_types = frozenset(t for types, check in parts.values() for t in types)
    if closed and all(check is None for _, check in parts.values()) and all(
        types == next(iter(parts.values()))[0] for types, _ in parts.values()
    ):
        # Every sub-field takes the same types and nothing else (Ortto's location): a key test
        # and a type test over the values, both at C speed, say it all.
        keys = frozenset(parts)

        def uniform(value: Any) -> bool:
            return value is None or (
                value.keys() <= keys and {type(v) for v in value.values()} <= simple_types
            )

        return uniform

    def nested(value: Any) -> bool:
        if value is None:
            return True
        for key, sub in value.items():
            spec = parts.get(key)
            if spec is None:
                if closed:
                    return False
                continue
            if type(sub) not in spec[0] or (spec[1] is not None and not spec[1](sub)):
                return False
        return True

    return nested


def _remove_empty(container: dict[str, Any], f: Field) -> None:
    # Segment's removeEmptyValues: a null the field does not accept and an empty string where the
    # field is not a string are treated as "not mapped"; sub-fields of objects likewise.
    value = container[f.key]
    if value is None:
        if not f.allow_null:
            del container[f.key]
    elif type(value) is str:
        if value == "" and f.type is not FieldType.STRING:
            del container[f.key]
    elif type(value) is dict and f.properties:
        nested = dict(value)
        for part in f.properties:
            if part.key in nested:
                _remove_empty(nested, part)
        container[f.key] = nested


def _matches(value: Any, types: tuple[str, ...]) -> bool:
    kind = type(value)
    for name in types:
        if kind in _PY_TYPES[name]:
            return True
        if name == "integer" and kind is float and value.is_integer():
            return True
    return False


_NO_COERCION: Final = object()


def _coerce(value: Any, types: tuple[str, ...]) -> Any:
    """Ajv's ``coerceTypes: "array"``: the coerced value, or ``_NO_COERCION``."""
    targets = [t for t in types if t in _COERCIBLE]
    if not targets:
        return _NO_COERCION
    if type(value) is list and len(value) == 1:
        value = value[0]
        if _matches(value, types):
            return value
    kind = type(value)
    for target in targets:
        if target == "string":
            if kind is int or kind is float or kind is bool:
                return js_string(value)
            if value is None:
                return ""
        elif target in ("number", "integer"):
            if kind is bool:
                return int(value)
            if value is None:
                return 0
            if kind is str and value:
                number = js_number_from_string(value)
                if number is not None and (target == "number" or number % 1 == 0):
                    return json_number(number)
        elif target == "boolean":
            if value == "false" or value is None or (kind in (int, float) and value == 0):
                return False
            if value == "true" or (kind in (int, float) and value == 1):
                return True
        elif value == "" or value is False or (kind in (int, float) and value == 0):
            return None  # target "null"
    return _NO_COERCION


def _check(value: Any, f: Field, problems: list[str]) -> Any:
    """Check one value against its field (coercing it if Ajv would); return the value to keep."""
    types = f.json_types
    if not _matches(value, types):
        coerced = _coerce(value, types)
        if coerced is _NO_COERCION:
            problems.append(f"{f.title} must be {_type_phrase(types)} but it was "
                            f"{describe_type(value)}.")
        else:
            value = coerced
    if f.choices and value not in f.choices and not (value is None and f.allow_null):
        problems.append(f"{f.title} must be one of: {_choice_list(f.choices)}.")
    if f.format is not None and type(value) is str and not FORMAT_CHECKS[f.format](value):
        problems.append(
            f"{f.title} must be a valid {FORMAT_LABELS[f.format]} string but it was not."
        )
    if f.properties is not None and type(value) is dict:
        value = dict(value)
        for part in f.properties:
            if part.key in value:
                value[part.key] = _check(value[part.key], part, problems)
        if not f.additional_properties:
            allowed = {p.key for p in f.properties}
            value = {k: v for k, v in value.items() if k in allowed}
    return value


def _type_phrase(types: tuple[str, ...]) -> str:
    return f"{_ARTICLE.get(types[0], 'a')} {' or '.join(types)}"


def _choice_list(choices: tuple[str, ...]) -> str:
    quoted = [f'"{c}"' for c in choices]
    if len(quoted) <= 2:
        return " or ".join(quoted)
    return ", ".join(quoted[:-1]) + ", or " + quoted[-1]
