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

from ._clean import clean_item
from ._model import Field, Refusal
from ._scan import COMPILED, has_empty_key, without_empty_keys
from ._validate import Validator, _fast_check, _fast_object_check, _py_types
from ._values import FORMAT_CHECKS

__all__ = ["CheckSource", "ItemChecker", "check_source", "general_checker", "specialise"]

ItemChecker = Callable[[dict[str, Any]], "dict[str, Any] | Refusal"]
"""Takes a mapped item; returns the valid item cleaned of empty keys, or a refusal."""

_Tests = Callable[[str, "Mapping[str, str] | None", "str | None"], list[str]]

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
    code = check_source(general, fields, mapping)
    if code is None:
        return general_checker(general)  # a directive at the top, or keys that are not fields
    lines = ["def check(item):", "    get = item.get", "    dirty = False"]
    for key in mapping:
        tests = code.value_lines(key, "v", None)
        if tests:
            guard = f"    if (v := get({key!r}, MISSING)) is not MISSING:"
            lines += [guard, *(f"        {line}" for line in tests)]
    lines += [f"    {line}" for line in code.required_lines(lambda key: f"get({key!r}, MISSING)")]
    lines.append("    return rebuild(item) if dirty else item")
    env = code.env
    # The constants become closure cells of a factory (fast loads), not globals (dict lookups).
    names = sorted(env)
    source = "\n".join(
        [f"def make({', '.join(names)}):", *(f"    {line}" for line in lines), "    return check"]
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<item check of a {len(mapping)}-key mapping>", "exec"), namespace)
    check: ItemChecker = namespace["make"](**env)
    return check


class CheckSource:
    """The source of the specialised check of one mapping's items, in pieces.

    The pieces run ``fail`` (a statement given to :func:`check_source`) when only the complete
    procedure can tell, and set ``dirty`` (initially false) when the item must be rebuilt
    without its empty keys (through ``rebuild``); ``env`` holds the names they use.
    """

    __slots__ = ("_required", "_tests", "env")

    def __init__(
        self,
        env: dict[str, Any],
        tests: dict[str, _Tests],
        required: list[tuple[str, str | None]],
        fail: str,
    ) -> None:
        self.env = env
        self._tests = tests
        self._required = [(key, other, fail) for key, other in required]

    def value_lines(
        self, key: str, var: str, parts: Mapping[str, str] | None, absent: str | None = None
    ) -> list[str]:
        """Tests of ``key``'s value, held in ``var``, to run where the key is in the item; or,
        given ``absent``, where ``var`` may also be ``MISSING``, in which case they run that
        statement instead.

        ``parts``: for an object written out in the mapping, the variables holding its keys'
        values (``MISSING`` when absent; a key not named is never in the object). Lines are
        not indented; ``[]`` when the mapping settles the value.
        """
        test = self._tests.get(key)
        return [] if test is None else test(var, parts, absent)

    def required_lines(self, read: Callable[[str], str]) -> list[str]:
        """The tests of required keys, ``read(key)`` being the key's value or ``MISSING``."""
        lines = []
        for key, other, fail in self._required:
            if other is None:
                lines.append(f"if {read(key)} is MISSING: {fail}")
            else:
                # Ajv's `if`: the other field is undefined or empty, `then`: this one is required.
                lines.append(f"if {read(key)} is MISSING and ((w := {read(other)}) is MISSING"
                             f" or w == ''): {fail}")
        return lines


def check_source(
    general: Validator,
    fields: tuple[Field, ...],
    mapping: Mapping[str, Any],
    *,
    missing: object = _MISSING,
    fail: str = "return complete(item)",
) -> CheckSource | None:
    """The source of the specialised check of ``mapping``'s items (``None``: no shortcut).

    ``missing`` is what ``MISSING`` stands for in it (the value of a key not in the item).
    """
    by_key = {f.key: f for f in fields}
    if not all(type(k) is str and k in by_key for k in mapping):
        return None
    env: dict[str, Any] = {
        "MISSING": missing, "complete": general_checker(general.complete),
        "has_empty": has_empty_key, "rebuild": without_empty_keys,
    }
    tests: dict[str, _Tests] = {}
    for n, (key, source) in enumerate(mapping.items()):
        field = by_key[key]
        if not (_is_scalar(source) and _takes_as_is(field, source)):
            tests[key] = _value_tests(n, field, source, env, fail)
    required: list[tuple[str, str | None]] = []
    for field in fields:
        if field.required_unless:
            required.append((field.key, field.required_unless))
        if field.required:
            required.append((field.key, None))
    return CheckSource(env, tests, required, fail)


def _value_tests(n: int, field: Field, source: Any, env: dict[str, Any], fail: str) -> _Tests:
    """The source of the tests that run ``fail`` unless a value of ``field`` needs at most
    cleaning (see :meth:`CheckSource.value_lines`)."""
    types = [t for t in _py_types(field) if t is not _NONE]
    for i, kind in enumerate(types):
        env[f"T{n}_{i}"] = kind
    checks: list[Callable[[Any], bool]] = []
    if field.format is not None:
        test = FORMAT_CHECKS[field.format]
        checks.append(test if types == [str] else lambda v: type(v) is not str or test(v))
    if field.choices:
        checks.append(frozenset(field.choices).__contains__)
    written_out = _written_out_parts(field, source)
    if written_out is None and field.properties is not None:
        checks.append(_fast_object_check(field.properties, closed=not field.additional_properties))
    for i, check in enumerate(checks):
        env[f"C{n}_{i}"] = check
    for i, (_, allowed) in enumerate(written_out or ()):
        env[f"A{n}_{i}"] = allowed
        # The same with the type of MISSING: one test for "absent or of an allowed type".
        env[f"B{n}_{i}"] = allowed | {type(env["MISSING"])}

    def lines(v: str, parts: Mapping[str, str] | None, absent: str | None) -> list[str]:
        # `v.__class__` rather than `type(v)`: an attribute read costs less than a call (about
        # 50 instructions a test on CPython 3.11), and the values come from a decoder or the
        # mapping engine, whose objects never claim another class (as the mapping code's own
        # `.__class__ is dict` tests count on).
        type_test = " and ".join(f"{v}.__class__ is not T{n}_{i}" for i in range(len(types)))
        rest = []
        if written_out is not None:
            # An object the mapping writes out, whose values can only be scalars once checked.
            if parts is None:
                rest.append(f"vget = {v}.get")
            for i, (part_key, _) in enumerate(written_out):
                if parts is None:
                    rest.append(f"if (w := vget({part_key!r}, MISSING)) is not MISSING"
                                f" and w.__class__ not in A{n}_{i}: {fail}")
                elif part_key in parts:
                    rest.append(f"if {parts[part_key]}.__class__ not in B{n}_{i}: {fail}")
                # else: a key the object never has (an undefined constant)
        rest += [f"if not C{n}_{i}({v}): {fail}" for i in range(len(checks))]
        if dict in types and written_out is None:
            if COMPILED:
                rest.append(f"if has_empty({v}): dirty = True")
            else:
                # has_empty(v), its first level written inline (one call less per item and field)
                rest += [
                    f"if '' in {v}: dirty = True",
                    "else:",
                    f"    for x in {v}.values():",
                    "        if type(x) is dict and has_empty(x):",
                    "            dirty = True",
                    "            break",
                ]
        if parts is not None and written_out is not None:
            return rest  # an object the mapping code has just built: a dict, never missing
        if absent is not None:
            # One type test in the common case; what it lets through is sorted out after.
            odd = [f"if {v} is MISSING: {absent}"]
            odd.append(f"elif {v} is not None: {fail}" if field.allow_null else f"else: {fail}")
            out = [f"if {type_test}:", *_indent(odd)]
            return [*out, "else:", *_indent(rest)] if rest else out
        body = [f"if {type_test}: {fail}", *rest]
        return [f"if {v} is not None:", *_indent(body)] if field.allow_null else body

    return lines


def _indent(lines: list[str]) -> list[str]:
    return [f"    {line}" for line in lines]


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
