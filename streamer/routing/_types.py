"""What routing one event produces: the contract between the router and the pipeline.

``Router.route(event)`` returns one outcome per subscription whose trigger matched, in
subscription order; an empty list means the event is filtered (done at once): it matched no
subscription, or, when the list is :data:`TURNED_OFF` itself, its ``integrations`` object turns
this destination off. The list may be shared (:data:`TURNED_OFF`, :data:`NO_MATCH`): never
modify what ``route`` returns.

- :class:`Accepted`: a clean, validated item, ready to be serialised into its route's window.
- :class:`Rejected`: the item failed mapping or validation (status 400, the message names the
  field); it is dead-lettered and never sent.
- :class:`Skipped`: the item must not be sent but counts as delivered (an activity whose
  namespace is ``ortto.com`` came from Ortto itself: loop prevention).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, NamedTuple

__all__ = ["NO_MATCH", "TURNED_OFF", "Accepted", "Outcome", "Rejected", "Route", "Skipped"]


@dataclass(frozen=True, slots=True, eq=False)
class Route:
    """One compiled subscription. Batches are gathered per route (as Segment does)."""

    index: int
    """Position in the configuration (0-based); also the batching window key."""
    name: str
    action: str
    """Action name: ``upsertContactProfile`` or ``trackActivity``."""
    path: str
    """Endpoint path below the base URL, e.g. ``/track``."""
    audience: str | None = None
    config_hash: str = ""
    """Short hash of the subscription as configured: dead-letter records say what mapped them."""


class Accepted(NamedTuple):
    route: Route
    item: dict[str, Any]


class Rejected(NamedTuple):
    route: Route
    status: int
    message: str


class Skipped(NamedTuple):
    route: Route
    reason: str


Outcome = Accepted | Rejected | Skipped

TURNED_OFF: Final[list[Outcome]] = []
"""What ``Router.route`` returns for an event whose ``integrations`` object turns this destination
off: no outcome (the event is filtered), and this very list, so that ``outcomes is TURNED_OFF``
tells why without another look at the event. Shared: never modify it."""

NO_MATCH: Final[list[Outcome]] = []
"""What ``Router.route`` returns, where it dispatches on a field (the presets), for an event no
trigger matches: no outcome, and always this list rather than a new one (the filter path
allocates nothing). Shared: never modify it."""
