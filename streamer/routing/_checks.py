"""A subscription's start-up checks against its action, and its batch size.

:func:`mapping_problems` lists what makes a subscription unusable (a key that is not a field of
the action, a misspelt key of a closed object, a literal the field refuses): start-up errors.
:func:`mapping_warnings` lists what Segment accepts but what refuses every event (a field mapped
to ``""`` on the batch path): start-up warnings. :func:`max_items_of` is the mapping's batch
size, :data:`SINGLE` for a mapping sent one event at a time (``enable_batching: false``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..actions import Action, validator_for

__all__ = ["MAX_BATCH_ITEMS", "SINGLE", "mapping_problems", "mapping_warnings", "max_items_of"]

MAX_BATCH_ITEMS = 500
"""The most items Ortto's Segment endpoints take in one request."""


def mapping_problems(action: Action, mapping: Mapping[str, Any]) -> list[str]:
    """Keys that are not fields of the action, and literal values their field refuses."""
    problems: list[str] = []
    validator = validator_for(action)
    for key, value in mapping.items():
        if key.startswith("@"):
            continue  # a directive at the top: the engine has judged it
        field = action.field(key)
        if field is None:
            fields = ", ".join(f.key for f in action.fields)
            problems.append(f"mapping: {key!r} is not a field of {action.name} (fields: {fields})")
            continue
        if field.properties is not None and not field.additional_properties and isinstance(
            value, Mapping
        ):
            # An object written out for a closed field (location): Segment would drop the
            # other keys silently; here a misspelt key is a start-up error.
            allowed = [p.key for p in field.properties]
            problems.extend(
                f"mapping: {key}: {sub!r} is not one of {', '.join(allowed)}"
                for sub in value
                if sub not in allowed and not str(sub).startswith("@")
            )
        if value == "" and type(value) is str:
            continue  # a field left blank: see mapping_warnings
        if value is None or isinstance(value, str | int | float | bool):
            problems.extend(f"mapping: {key}: {p}" for p in validator.literal_problems(key, value))
    return problems


def mapping_warnings(action: Action, mapping: Mapping[str, Any], *, single: bool) -> list[str]:
    """Fields mapped to ``""`` (what Segment's editor saves for a field left blank) that make
    every event fail.

    Not start-up errors, as other literals the field refuses are: Segment accepts the mapping.
    On the single-event path the key is dropped before validation (nothing to say); on the
    batch path Segment, and so streamer, refuses each event with the field's message.
    """
    if single:
        return []
    validator = validator_for(action)
    return [
        f"mapping: {key}: the empty string refuses every event ({' '.join(found)})"
        for key, value in mapping.items()
        if value == "" and type(value) is str and action.field(key) is not None
        for found in [validator.literal_problems(key, value)]
        if found
    ]


SINGLE = 0
"""The batch size of a route sent one event at a time (see max_items_of)."""


def max_items_of(mapping: Mapping[str, Any]) -> int:
    # Segment sends one event per request when batching is off (SINGLE; Router.max_items says
    # 1), and honours a literal batch size.
    if mapping.get("enable_batching") is False:
        return SINGLE
    size = mapping.get("batch_size")
    if isinstance(size, int | float) and not isinstance(size, bool) and size >= 1:
        return min(int(size), MAX_BATCH_ITEMS)
    return MAX_BATCH_ITEMS
