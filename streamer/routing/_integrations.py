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

Lifecycle: :func:`integrations_check` runs once at start-up; the router calls the function it
returns only for events that carry ``integrations`` (one dict lookup for the others).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..config import IntegrationsConfig

__all__ = ["integrations_check"]

TurnedOff = Callable[[Any], bool]
"""``turned_off(integrations)``: whether this ``integrations`` value turns the destination off."""


def integrations_check(config: IntegrationsConfig | None) -> TurnedOff | None:
    """The check of an event's ``integrations`` value, or ``None`` when it is ignored.

    ``None`` as ``config``: the defaults (honoured, the default names).
    """
    config = IntegrationsConfig() if config is None else config
    if not config.honour:
        return None
    names = tuple(config.names)

    def turned_off(integrations: Any) -> bool:
        if type(integrations) is not dict:
            return False  # Segment reads keys of an object only: anything else turns nothing off
        for name in names:
            if name in integrations:
                return integrations[name] is False
        return integrations.get("All") is False

    return turned_off
