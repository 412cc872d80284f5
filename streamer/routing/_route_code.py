"""The router's per-event function, generated once at start-up for its subscriptions.

``route(event)`` is written out as Python source and compiled: one test per trigger and no
loop; triggers of the form ``field = "value"`` on one top-level field share one read of it, and
when they all are with distinct values (the presets' ``type = ...``) the function dispatches on
the value. Before any trigger, the event's ``integrations`` object (see :mod:`._integrations`):
an event that turns this destination off gets :data:`TURNED_OFF`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..actions._scan import turns_off
from ..mapping import UNDEFINED
from ._native import define
from ._types import NO_MATCH, TURNED_OFF, Outcome

__all__ = ["exclusive_equalities", "route_function"]

_Step = Callable[[Mapping[str, Any]], Outcome]
_Trigger = Callable[[Mapping[str, Any]], bool]
_Equality = tuple[str, str] | None
_RouteFunction = Callable[[Mapping[str, Any]], list[Outcome]]


# One look-up for an event without `integrations` (most); else one call of the compiled check.
_INTEGRATIONS_PROLOGUE = [
    "    i = event.get('integrations')",
    "    if i is not None and off(i, NAMES): return OFF",
]


def route_function(
    steps: Sequence[tuple[_Equality, _Trigger, _Step]], names: tuple[str, ...] | None,
    *, native: bool = True,
) -> _RouteFunction:
    """``[step(event) for _, trigger, step in steps if trigger(event)]``, written out.

    A trigger that is ``field = "value"`` on a top-level field (the presets' ``type = ...``)
    is written as a string comparison, and the field is read once for all such triggers.
    First, unless ``names`` is ``None``, the event's ``integrations`` object (does it turn off
    the destination called ``names``?): one lookup for the events without one. ``native``:
    the compiled rendering of this very function when the build has one (the presets').
    """
    namespace: dict[str, Any] = {
        "U": UNDEFINED, "off": turns_off, "NAMES": names, "OFF": TURNED_OFF, "NONE": NO_MATCH,
    }
    prologue = ["def route(event):"]
    if names is not None:
        prologue += _INTEGRATIONS_PROLOGUE
    exclusive = exclusive_equalities(steps)
    if exclusive is not None:
        return _dispatch_function(*exclusive, namespace, prologue, native)
    lines = [*prologue, "    out = []", "    add = out.append"]
    fields: dict[str, str] = {}
    for n, (equality, trigger, step) in enumerate(steps):
        namespace[f"s{n}"] = step
        if equality is None:
            namespace[f"t{n}"] = trigger
            lines.append(f"    if t{n}(event): add(s{n}(event))")
            continue
        field, value = equality
        var = fields.get(field)
        if var is None:
            var = fields[field] = f"f{len(fields)}"
            # Segment's `=` needs a string: anything else equals no value.
            lines += [f"    {var} = event.get({field!r}, U)",
                      f"    if {var}.__class__ is not str: {var} = None"]
        lines.append(f"    if {var} == {value!r}: add(s{n}(event))")
    lines.append("    return out")
    return _define(lines, namespace, native)


def exclusive_equalities(
    steps: Sequence[tuple[_Equality, _Trigger, _Step]],
) -> tuple[str, dict[str, _Step]] | None:
    """``(field, {value: step})`` when every trigger is ``field = "value"`` on one field with
    distinct values (the presets): at most one subscription can match an event."""
    field = None
    by_value: dict[str, _Step] = {}
    for equality, _, step in steps:
        if equality is None or (field is not None and equality[0] != field):
            return None
        field, value = equality
        if value in by_value:
            return None
        by_value[value] = step
    return None if field is None else (field, by_value)


def _dispatch_function(
    field: str, by_value: dict[str, _Step], namespace: dict[str, Any], prologue: list[str],
    native: bool,
) -> _RouteFunction:
    """The router of exclusive triggers: one read of the field, at most one step; an event
    that matches none gets :data:`NO_MATCH` (no list made)."""
    lines = [*prologue, f"    value = event.get({field!r}, U)"]
    if len(by_value) <= 4:
        # A few string comparisons are cheaper than hashing the value.
        lines.append("    if value.__class__ is str:")
        for n, (value, step) in enumerate(by_value.items()):
            namespace[f"s{n}"] = step
            lines.append(f"        if value == {value!r}: return [s{n}(event)]")
        lines.append("    return NONE")
    else:
        namespace["steps"] = by_value
        lines += [
            "    step = steps.get(value) if value.__class__ is str else None",
            "    return NONE if step is None else [step(event)]",
        ]
    return _define(lines, namespace, native)


def _define(lines: list[str], namespace: dict[str, Any], native: bool) -> _RouteFunction:
    route: _RouteFunction = define(
        "\n".join(lines) + "\n", namespace, name="route", filename="<router>", native=native
    )
    return route
