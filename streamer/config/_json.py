"""A configuration is a JSON document written in YAML: what JSON cannot say is refused.

Mappings are compiled into code (``mapping/_codegen.py`` puts only the ``repr`` of string keys in
the source) and hashed with orjson (``routing.config_hash``); Segment's own mappings are JSON.
So a value must be ``null``, a boolean, an integer, a finite float, a string, a list of values or
a mapping with string keys. Anything else (a ``.nan``/``.inf``, a ``!!binary``, ``!!timestamp``
or ``!!set``, a number or ``null`` as a key) is a problem naming its dotted path, found before
anything is compiled.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["json_problems"]


def json_problems(value: Any, path: str, problems: list[str]) -> bool:
    """Append one problem per non-JSON value or key under ``path``; ``True`` if all is JSON."""
    found = len(problems)
    _walk(value, path, problems)
    return len(problems) == found


def _walk(value: Any, path: str, problems: list[str]) -> None:
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return
    if kind is float:
        if not math.isfinite(value):
            problems.append(f"{path}: {value!r} is not a JSON number (NaN and Infinity are not)")
        return
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                problems.append(
                    f"{path}: the key {_show(key)} is not a string (quote it: mapping keys are "
                    "JSON strings)"
                )
                continue
            _walk(item, f"{path}.{key}" if path else key, problems)
        return
    if kind is list:
        for index, item in enumerate(value):
            _walk(item, f"{path}.{index}", problems)
        return
    problems.append(f"{path}: a {_kind(value)} is not a JSON value (quote it to make it a string)")


def _show(key: Any) -> str:
    if isinstance(key, bytes | bytearray):
        return "(binary)"
    if isinstance(key, float | int | bool) or key is None:
        return repr(key)
    return f"of type {type(key).__name__}"


def _kind(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "binary value (!!binary)"
    name = type(value).__name__
    if name in ("date", "datetime"):
        return "timestamp (!!timestamp)"
    if isinstance(value, set | frozenset):
        return "set (!!set)"
    return f"value of type {name}"
