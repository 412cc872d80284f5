"""Cleaning a valid item the way Ortto's Segment integration does before sending it.

Keys that are the empty string are removed from the item and from every object nested in it,
however deep; objects inside arrays are left as they are (the integration does not descend into
arrays). Keys whose value is undefined never reach this point: the mapping leaves them out.

Cleaning never modifies its input, because nested objects usually belong to the event (and to
the items of other routes). An item without empty keys, the common case, is returned as is
after one read-only walk (:func:`~._scan.has_empty_key`, compiled where the build can); only
then is a copy made.
"""

from __future__ import annotations

from typing import Any

from ._scan import has_empty_key, without_empty_keys

__all__ = ["clean_item"]


def clean_item(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` without empty-string keys at any object level (a copy only when needed)."""
    return without_empty_keys(item) if has_empty_key(item) else item
