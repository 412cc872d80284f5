"""Validation and cleaning specialised for one mapping: only what the mapping leaves open is
checked per item.

This runs on every accepted event, so its cost matters, and much of it is settled by the
mapping, once, at start-up:

- the item's keys can only be the mapping's keys (checked to be fields when the router
  compiles), so no key needs to be looked up or dropped per item;
- a literal value the field takes as it is (``"enable_batching": true``) stays valid, and holds
  no object with an empty key;
- an object written out in the mapping (the presets' ``location``) always yields an object
  with some of its keys, so only the types of its values remain to be checked.

What is left, the values that come from the event, is checked by a function generated for the
mapping: one straight line of tests per field (no loop, no lookup table, one read of each
value), which is the cheapest Python there is, and the same pass looks for empty keys in the
objects taken from the event. Any doubt (a failed test) hands the item to the general
procedure, which gives the answer; so the generated function only ever says "nothing to do"
or "only clean". Tests compare both on many items.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from ._clean import _has_empty_key, _rebuild, clean_item
from ._model import Field, Refusal
from ._validate import Validator, _fast_check, _fast_object_check, _py_types
from ._values import FORMAT_CHECKS

__all__ = ["ItemChecker", "general_checker", "specialise"]

ItemChecker = Callable[[dict[str, Any]], "dict[str, Any] | Refusal"]
"""Takes a mapped item; returns the valid item cleaned of empty keys, or a refusal."""

_MISSING: Final = object()
_NONE = type(None)
_SCALARS: Final = (str, int, float, bool)


def general_checker(
    general: Callable[[dict[str, Any]], dict[str, Any] | Refusal],
) -> ItemChecker:
    """Validation (``general``) then cleaning, for items of any mapping."""

    def check(item: dict[str, Any]) -> dict[str, Any] | Refusal:
        valid = general(item)
        return clean_item(valid) if type(valid) is dict else valid

    return check


def specialise(
    general: Validator, fields: tuple[Field, ...], mapping: Mapping[str, Any]
) -> ItemChecker:
    """An :data:`ItemChecker` for the items of ``mapping`` that agrees with the general one."""
    by_key = {f.key: f for f in fields}
    if not all(type(k) is str and k in by_key for k in mapping):
        return general_checker(general)  # a directive at the top, or keys that are not fields
    complete = general_checker(general.complete)  # the fast path has failed: no shortcut
    env: dict[str, Any] = {
        "MISSING": _MISSING, "complete": complete, "has_empty": _has_empty_key,
        "rebuild": _rebuild,
    }
    lines = ["def check(item):", "    get = item.get", "    dirty = False"]
    for n, (key, source) in enumerate(mapping.items()):
        field = by_key[key]
        if _is_scalar(source) and _takes_as_is(field, source):
            continue
        lines += _value_tests(n, key, field, source, env)
    for field in fields:
        if field.required_unless:
            lines.append(
                f"    if {field.key!r} not in item and get({field.required_unless!r}, '') == '':"
                " return complete(item)"
            )
        if field.required:
            lines.append(f"    if {field.key!r} not in item: return complete(item)")
    lines.append("    return rebuild(item) if dirty else item")
    # The constants become closure cells of a factory (fast loads), not globals (dict lookups).
    names = sorted(env)
    source = "\n".join(
        [f"def make({', '.join(names)}):", *(f"    {line}" for line in lines), "    return check"]
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<item check of a {len(mapping)}-key mapping>", "exec"), namespace)
    check: ItemChecker = namespace["make"](**env)
    return check


def _value_tests(
    n: int, key: str, field: Field, source: Any, env: dict[str, Any]
) -> list[str]:
    """Source lines that return ``complete(item)`` unless ``item[key]`` needs at most cleaning."""
    types = [t for t in _py_types(field) if t is not _NONE]
    for i, kind in enumerate(types):
        env[f"T{n}_{i}"] = kind
    guard = "v is not MISSING and v is not None" if field.allow_null else "v is not MISSING"
    type_test = " and ".join(f"type(v) is not T{n}_{i}" for i in range(len(types)))
    lines = [
        f"    v = get({key!r}, MISSING)",
        f"    if {guard}:",
        f"        if {type_test}: return complete(item)",
    ]
    checks: list[Callable[[Any], bool]] = []
    if field.format is not None:
        test = FORMAT_CHECKS[field.format]
        checks.append(test if types == [str] else lambda v: type(v) is not str or test(v))
    if field.choices:
        checks.append(frozenset(field.choices).__contains__)
    written_out = _written_out_parts(field, source)
    if written_out is not None:
        # An object the mapping writes out, whose values can only be scalars once checked.
        lines.append("        vget = v.get")
        for i, (part_key, allowed) in enumerate(written_out):
            env[f"A{n}_{i}"] = allowed
            lines += [
                f"        w = vget({part_key!r}, MISSING)",
                f"        if w is not MISSING and type(w) not in A{n}_{i}:"
                " return complete(item)",
            ]
    elif field.properties is not None:
        checks.append(_fast_object_check(field.properties, closed=not field.additional_properties))
    for i, check in enumerate(checks):
        env[f"C{n}_{i}"] = check
        lines.append(f"        if not C{n}_{i}(v): return complete(item)")
    if dict in types and written_out is None:
        # has_empty(v), its first level written inline (one call less per item and field)
        lines += [
            "        if '' in v: dirty = True",
            "        else:",
            "            for x in v.values():",
            "                if type(x) is dict and has_empty(x):",
            "                    dirty = True",
            "                    break",
        ]
    return lines


def _is_scalar(source: Any) -> bool:
    return source is None or type(source) in _SCALARS


def _takes_as_is(field: Field, value: Any) -> bool:
    check = _fast_check(field)
    return type(value) in _py_types(field) and (check is None or check(value))


def _written_out_parts(field: Field, source: Any) -> list[tuple[str, frozenset[type]]] | None:
    """For an object the mapping writes out with sub-fields that take only scalars and need no
    other test: each key with the types its value may have. Else ``None``."""
    if field.properties is None or not isinstance(source, Mapping):
        return None
    if any(type(k) is not str or k.startswith("@") or k == "" for k in source):
        return None  # a directive: the object (if any) can have any keys
    parts = {p.key: p for p in field.properties}
    if not source.keys() <= parts.keys():
        return None
    written: list[tuple[str, frozenset[type]]] = []
    for key in source:
        types = frozenset(_py_types(parts[key]))
        if _fast_check(parts[key]) is not None or not types <= {*_SCALARS, _NONE}:
            return None
        written.append((key, types))
    return written
