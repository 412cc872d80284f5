"""plan_batch: what a batch becomes, grouped per subscription like Segment and the pipeline."""

from __future__ import annotations

from typing import Any

from streamer.config import SubscriptionConfig
from streamer.routing import compile_router, plan_batch


def _event(kind: str, n: int, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"type": kind, "userId": f"u{n}", "messageId": f"m{n}"}
    if kind == "track":
        event["event"] = f"E{n}"
    event.update(extra)
    return event


def test_requests_per_route_in_route_order_then_event_order() -> None:
    events = [
        _event("track", 0), _event("identify", 1), _event("page", 2), _event("track", 3),
        _event("identify", 4, userId=None), _event("track", 5, context={"app": {
            "namespace": "ortto.com"}}), _event("identify", 6),
    ]
    plan = plan_batch(compile_router(None), events)
    assert [(r.method, r.path, r.indexes) for r in plan.requests] == [
        ("POST", "/v1/identify", [1, 6]),
        ("POST", "/v1/track", [0, 3]),
    ]
    assert [item["message_id"] for item in plan.requests[1].body] == ["m0", "m3"]
    assert plan.filtered == [2]
    assert [(r.index, r.route.action, r.status) for r in plan.rejected] == [
        (4, "upsertContactProfile", 400)]
    assert "user_id" in plan.rejected[0].message
    assert [(s.index, s.route.action) for s in plan.skipped] == [(5, "trackActivity")]
    assert [plan.delivered(i) for i in range(len(events))] == [1, 1, 0, 1, 0, 1, 1]


def test_chunks_follow_max_items_and_the_mapping_batch_settings() -> None:
    events = [_event("track", n) for n in range(5)]
    plan = plan_batch(compile_router(None), events, max_items=2)
    assert [r.indexes for r in plan.requests] == [[0, 1], [2, 3], [4]]

    one_by_one = compile_router([SubscriptionConfig.model_validate({
        "subscribe": 'type = "track"', "partnerAction": "trackActivity",
        "mapping": {"user_id": {"@path": "$.userId"}, "event": {"@path": "$.event"},
                    "enable_batching": False},
    })])
    assert [r.indexes for r in plan_batch(one_by_one, events[:3]).requests] == [[0], [1], [2]]


def test_empty_batch() -> None:
    plan = plan_batch(compile_router(None), [])
    assert (plan.requests, plan.rejected, plan.skipped, plan.filtered) == ([], [], [], [])
