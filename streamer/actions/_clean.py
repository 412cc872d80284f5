"""Cleaning a valid item the way Ortto's Segment integration does before sending it.

Keys that are the empty string are removed from the item and from every object nested in it,
however deep; objects inside arrays are left as they are (the integration does not descend into
arrays). Keys whose value is undefined never reach this point: the mapping leaves them out.

An event that goes through an action's single-event path (its mapping's ``enable_batching`` is
false) is cleaned once more, first: Segment's ``Action.execute`` drops every top-level key whose
value is the empty string before validation (``removeEmptyValues`` at the root), where the batch
path keeps ``""`` for string fields (:func:`without_empty_strings`).

Cleaning never modifies its input, because nested objects usually belong to the event (and to
the items of other routes). An item without empty keys, the common case, is returned as is
after one read-only walk (:func:`~._scan.has_empty_key`, compiled where the build can); only
then is a copy made.
"""

from __future__ import annotations

from typing import Any

from ._scan import has_empty_key, without_empty_keys

__all__ = ["clean_item", "without_empty_strings"]


def clean_item(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` without empty-string keys at any object level (a copy only when needed)."""
    return without_empty_keys(item) if has_empty_key(item) else item


def without_empty_strings(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` without its top-level keys whose value is ``""`` (a copy only when needed).

    Any key, field or not (Segment removes them before validation drops the others); nested
    objects keep theirs.
    """
    for value in item.values():
        if value == "" and type(value) is str:
            return {k: v for k, v in item.items() if not (type(v) is str and v == "")}
    return item
