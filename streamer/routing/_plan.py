"""What one batch of events would become: requests, rejections, skips and filtered events.

This is the pipeline's routing and batching without Kafka and without the network, for
``streamer preview`` and for the conformance tests. Segment gathers a destination's items per
subscription, so requests are grouped per route (in configuration order), each route's items in
event order, chunked by the route's batch size; the pipeline's batcher does the same, so a real
run sends the same requests (it may cut them earlier, on its byte limit or its linger time).

A route whose mapping says ``enable_batching: false`` (:attr:`Router.unbatched`) sends each
event alone, as it comes: its requests (one item each) come first, in event order, before the
batched routes' requests, which wait for their batch to fill.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._router import MAX_BATCH_ITEMS, Router
from ._types import TURNED_OFF, Accepted, Outcome, Rejected, Route, Skipped

__all__ = [
    "API_PREFIX",
    "BatchPlan",
    "PlannedRejection",
    "PlannedRequest",
    "PlannedSkip",
    "plan_batch",
]

API_PREFIX = "/v1"
"""The version segment of Ortto's endpoints (the base URL ends with it)."""


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    route: Route
    method: str
    path: str
    """Path with the version prefix, e.g. ``/v1/track``."""
    body: list[dict[str, Any]]
    indexes: list[int]
    """Index (in the batch) of the event each item of ``body`` came from."""


@dataclass(frozen=True, slots=True)
class PlannedRejection:
    index: int
    route: Route
    status: int
    message: str


@dataclass(frozen=True, slots=True)
class PlannedSkip:
    index: int
    route: Route
    reason: str


@dataclass(frozen=True, slots=True)
class BatchPlan:
    requests: list[PlannedRequest] = field(default_factory=list)
    rejected: list[PlannedRejection] = field(default_factory=list)
    skipped: list[PlannedSkip] = field(default_factory=list)
    filtered: list[int] = field(default_factory=list)
    """Indexes of the filtered events: no subscription matched, or ``integrations`` turned
    this destination off (:attr:`turned_off` lists those)."""
    turned_off: list[int] = field(default_factory=list)
    """Indexes of the events whose ``integrations`` object turns this destination off."""
    outcomes: list[list[Outcome]] = field(default_factory=list)
    """Per event, its outcomes in subscription order."""

    def filtered_reason(self, index: int) -> str | None:
        """Why event ``index`` was filtered (``integrations``, ``no_subscription``), or None."""
        if index in self.turned_off:
            return "integrations"
        return "no_subscription" if index in self.filtered else None

    def delivered(self, index: int) -> int:
        """How many subscriptions would deliver event ``index`` (accepted or skipped)."""
        return sum(type(o) is not Rejected for o in self.outcomes[index])


def plan_batch(
    router: Router, events: Sequence[Mapping[str, Any]], *, max_items: int = MAX_BATCH_ITEMS
) -> BatchPlan:
    """Route ``events`` (one batch) and group the accepted items into requests."""
    plan = BatchPlan()
    accepted: dict[Route, list[tuple[int, dict[str, Any]]]] = {r: [] for r in router.routes}
    for index, event in enumerate(events):
        outcomes = router.route(event)
        plan.outcomes.append(outcomes)
        if not outcomes:
            plan.filtered.append(index)
            if outcomes is TURNED_OFF:
                plan.turned_off.append(index)
        for outcome in outcomes:
            if type(outcome) is Accepted and router.sends_alone(outcome.route):
                plan.requests.append(_request(outcome.route, [(index, outcome.item)]))
            elif type(outcome) is Accepted:
                accepted[outcome.route].append((index, outcome.item))
            elif type(outcome) is Rejected:
                plan.rejected.append(
                    PlannedRejection(index, outcome.route, outcome.status, outcome.message)
                )
            elif type(outcome) is Skipped:
                plan.skipped.append(PlannedSkip(index, outcome.route, outcome.reason))
    for route in router.routes:
        items = accepted[route]
        size = max(1, min(max_items, router.max_items(route)))
        for start in range(0, len(items), size):
            plan.requests.append(_request(route, items[start:start + size]))
    return plan


def _request(route: Route, chunk: list[tuple[int, dict[str, Any]]]) -> PlannedRequest:
    return PlannedRequest(
        route=route,
        method="POST",
        path=API_PREFIX + route.path,
        body=[item for _, item in chunk],
        indexes=[index for index, _ in chunk],
    )
