"""Routing: Segment events to outcomes, through compiled triggers, mappings and actions.

- :func:`compile_router` compiles the configured subscriptions (or the presets) once, at
  start-up, reporting every problem together; :meth:`Router.route` is the per-event hot path.
- :func:`plan_batch` shows what a batch of events would become (requests, rejections, skips,
  filtered events) without Kafka or network: ``streamer preview`` and the conformance tests.
"""

from ._integrations import integrations_check
from ._plan import (
    API_PREFIX,
    BatchPlan,
    PlannedRejection,
    PlannedRequest,
    PlannedSkip,
    plan_batch,
)
from ._router import MAX_BATCH_ITEMS, MAX_SUBSCRIPTIONS, Router, compile_router, config_hash
from ._types import TURNED_OFF, Accepted, Outcome, Rejected, Route, Skipped

__all__ = [
    "API_PREFIX",
    "MAX_BATCH_ITEMS",
    "MAX_SUBSCRIPTIONS",
    "TURNED_OFF",
    "Accepted",
    "BatchPlan",
    "Outcome",
    "PlannedRejection",
    "PlannedRequest",
    "PlannedSkip",
    "Rejected",
    "Route",
    "Router",
    "Skipped",
    "compile_router",
    "config_hash",
    "integrations_check",
    "plan_batch",
]
