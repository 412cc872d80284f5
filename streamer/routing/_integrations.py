"""The ``integrations`` object of an event: whether it turns this destination off.

Segment's libraries set ``integrations`` from the caller's options
(``analytics.track(..., integrations={"Ortto (Actions)": False})``) and Segment's pipeline does
not deliver such an event to the destination it turns off. The rule, as Segment applies it:

- the destination's own key decides when present: ``false`` turns it off; any other value
  (``true``, an object of options, and also ``null``, a string, a number) leaves it on, since
  only the boolean ``false`` is tested;
- otherwise ``All`` decides: ``false`` turns every destination not named off;
- otherwise (and when ``integrations`` is not an object) the event is delivered.

Keys are compared exactly (``"ortto"`` is not ``"Ortto"``). The destination's names are
``ortto.integrations.names`` (default ``["Ortto (Actions)", "Ortto"]``); the first one present
in the object decides. ``ortto.integrations.honour: false`` ignores the object.

Lifecycle: :func:`integration_names` runs once at start-up; the router's generated function
calls :func:`~streamer.actions._scan.turns_off` (compiled with the other per-event scans) with
those names, only for events that carry ``integrations`` (one dict lookup for the others).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..actions._scan import turns_off
from ..config import IntegrationsConfig

__all__ = ["integration_names", "integrations_check"]

TurnedOff = Callable[[Any], bool]
"""``turned_off(integrations)``: whether this ``integrations`` value turns the destination off."""


def integration_names(config: IntegrationsConfig | None) -> tuple[str, ...] | None:
    """The destination's names to look up, or ``None`` when the object is ignored.

    ``None`` as ``config``: the defaults (honoured, the default names).
    """
    config = IntegrationsConfig() if config is None else config
    return tuple(config.names) if config.honour else None


def integrations_check(config: IntegrationsConfig | None) -> TurnedOff | None:
    """``turned_off(integrations)`` for these settings, or ``None`` when the object is ignored
    (what the router's generated function tests, as one callable)."""
    names = integration_names(config)
    if names is None:
        return None
    return lambda integrations: turns_off(integrations, names)
