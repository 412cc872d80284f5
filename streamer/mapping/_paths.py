"""Path look-ups, split once at compile time and walked with JavaScript's rules at run time.

Both Segment engines read nested values the same way: split the path into keys, then walk
``value = value && value[key]``. The ``&&`` matters: a falsy value met on the way (``0``,
``''``, ``false``, ``null``) is *returned*, not turned into ``undefined`` — ``$.a.b`` on
``{"a": null}`` is ``null``, on ``{"a": 0}`` it is ``0``. Strings and arrays answer
``length`` and numeric indexes. Only the splitting differs between the engines:

- mapping-kit (``@path``, ``@arrayPath``, ``{{...}}`` in ``@template``): the first ``$.``
  is removed, ``''`` or ``'.'`` is the whole value, then ``a.b[0]["c d"]`` splits into
  ``a, b, 0, c d``.
- FQL (``properties.a.b``): everything between ``.``, ``[`` and ``]``.

:func:`make_getter` turns a key tuple into a closure unrolled for the short paths that
dominate real mappings, with a dict fast path; the generic walk handles everything else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ._js import UNDEFINED, property_of, truthy

__all__ = [
    "Getter",
    "get_path",
    "make_getter",
    "split_fql_path",
    "split_keys",
    "split_mapping_path",
]

Getter = Callable[[Any], Any]

_MAPPING_SEPARATORS = re.compile(r"\[(?=[\"'0-9])|\.|(?<=[\"'0-9])\]+")
_FQL_SEGMENT = re.compile(r"[^\[.\]]+")


def split_mapping_path(path: str) -> tuple[str, ...]:
    """Keys of an ``@path``/``@arrayPath`` path (first ``$.`` removed); ``()``: the whole value."""
    return split_keys(path.replace("$.", "", 1))


def split_keys(path: str) -> tuple[str, ...]:
    """Keys of a mapping-kit ``get`` path (as ``{{...}}`` placeholders use it)."""
    if path in ("", "."):
        return ()
    return tuple(
        part.replace('"', "").replace("'", "") for part in _MAPPING_SEPARATORS.split(path) if part
    )


def split_fql_path(path: str) -> tuple[str, ...]:
    """Keys of an FQL field path below its root (``properties``, ``traits``, ``context``)."""
    return tuple(_FQL_SEGMENT.findall(path))


def get_path(value: Any, keys: tuple[str, ...]) -> Any:
    """Walk ``keys`` from ``value`` with JavaScript's ``value && value[key]``."""
    for key in keys:
        if type(value) is dict:
            value = value.get(key, UNDEFINED)
        elif not truthy(value):
            return value
        else:
            value = property_of(value, key)
    return value


def make_getter(keys: tuple[str, ...]) -> Getter:
    """A closure equivalent to ``lambda v: get_path(v, keys)``, faster for short paths."""
    if not keys:
        return _identity
    if len(keys) == 1:
        (k0,) = keys

        def get1(value: Any) -> Any:
            if type(value) is dict:
                return value.get(k0, UNDEFINED)
            return get_path(value, keys)

        return get1
    if len(keys) == 2:
        k0, k1 = keys

        def get2(value: Any) -> Any:
            if type(value) is dict:
                inner = value.get(k0, UNDEFINED)
                if type(inner) is dict:
                    return inner.get(k1, UNDEFINED)
                return get_path(inner, keys[1:])
            return get_path(value, keys)

        return get2
    if len(keys) == 3:
        k0, k1, k2 = keys

        def get3(value: Any) -> Any:
            if type(value) is dict:
                inner = value.get(k0, UNDEFINED)
                if type(inner) is dict:
                    inner2 = inner.get(k1, UNDEFINED)
                    if type(inner2) is dict:
                        return inner2.get(k2, UNDEFINED)
                    return get_path(inner2, keys[2:])
                return get_path(inner, keys[1:])
            return get_path(value, keys)

        return get3

    def get_n(value: Any) -> Any:
        return get_path(value, keys)

    return get_n


def _identity(value: Any) -> Any:
    return value
