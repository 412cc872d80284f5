"""The two value conversions every liquidjs-compatible filter and output needs."""

from __future__ import annotations

from typing import Any

from liquid import Undefined as LiquidUndefined

from ._js import UNDEFINED, to_string

__all__ = ["liquid_string", "plain"]


def plain(value: Any) -> Any:
    """python-liquid's ``Undefined`` as ``UNDEFINED``; everything else unchanged."""
    return UNDEFINED if isinstance(value, LiquidUndefined) else value


def liquid_string(value: Any) -> str:
    """liquidjs ``stringify``: nil is empty, arrays concatenate, the rest is ``String(v)``."""
    value = plain(value)
    if isinstance(value, str):
        return value
    if value is None or value is UNDEFINED:
        return ""
    if isinstance(value, list | tuple):
        return "".join(liquid_string(item) for item in value)
    return to_string(value)
