"""Cleaning a valid item the way Ortto's Segment integration does before sending it.

Keys that are the empty string are removed from the item and from every object nested in it,
however deep; objects inside arrays are left as they are (the integration does not descend into
arrays). Keys whose value is undefined never reach this point: the mapping leaves them out.

Cleaning never modifies its input, because nested objects usually belong to the event (and to
the items of other routes). An item without empty keys, the common case, is returned as is
after one read-only walk; only the objects on the way to an empty key are copied.
"""

from __future__ import annotations

from typing import Any

__all__ = ["clean_item"]


def clean_item(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` without empty-string keys at any object level (a copy only when needed)."""
    return _rebuild(item) if _has_empty_key(item) else item


def _has_empty_key(obj: dict[str, Any]) -> bool:
    if "" in obj:
        return True
    # A plain loop: any() over a generator costs a frame per call on this hot path.
    for value in obj.values():  # noqa: SIM110
        if type(value) is dict and _has_empty_key(value):
            return True
    return False


def _rebuild(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        key: _rebuild(value) if type(value) is dict else value
        for key, value in obj.items()
        if key != ""
    }
