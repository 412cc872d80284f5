"""Conformance with Segment's Ortto (Actions) destination, on vectors its own code answered.

For every case of ``ortto-presets.json``, ``ortto-custom.json`` and ``ortto-sdk.json`` (one
batch of events, the subscriptions, what the reference sent and what became of each event):

- the requests are the reference's: same endpoints, same items, in the same order;
- each event is rejected by the same subscriptions, with the reference's messages;
- each event is delivered by as many subscriptions as in the reference (skipped items count as
  delivered: Segment reports them as successes);
- ``ortto-sdk.json`` also says whether Segment batched (``batch``): where it did not (the
  mappings' ``enable_batching`` is false), every request holds one item, one per event.

The vectors are data copied from /work/shared/conformance (see its README).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from streamer.config import SubscriptionConfig
from streamer.routing import compile_router, plan_batch

HERE = Path(__file__).parent


def _cases(name: str) -> list[Any]:
    cases = json.loads((HERE / name).read_text())["cases"]
    return [pytest.param(case, id=f"{name.removesuffix('.json')}-{i}") for i, case in
            enumerate(cases)]


def json_equal(left: Any, right: Any) -> bool:
    """JSON equality as JavaScript sees it: 1 == 1.0, but true is not 1 and key order is free."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(json_equal, left, right))
    return type(left) is type(right) and left == right


def _check_case(case: dict[str, Any]) -> None:
    spec = case["subscriptions"]
    subscriptions = (
        None if spec == "presets" else [SubscriptionConfig.model_validate(s) for s in spec]
    )
    plan = plan_batch(compile_router(subscriptions), case["events"])

    sent: dict[str, list[Any]] = defaultdict(list)
    for request in plan.requests:
        assert request.method == "POST"
        sent[request.path].extend(request.body)
    expected: dict[str, list[Any]] = defaultdict(list)
    for request in case["requests"]:
        assert request["method"] == "POST"
        expected[request["path"]].extend(request["body"])
    assert sorted(sent) == sorted(expected)
    for path, items in expected.items():
        assert len(sent[path]) == len(items), path
        for position, (mine, theirs) in enumerate(zip(sent[path], items, strict=True)):
            assert json_equal(mine, theirs), f"{path} item {position}:\n{mine}\n!=\n{theirs}"

    assert len(plan.outcomes) == len(case["statuses"])
    for index, status in enumerate(case["statuses"]):
        rejected = [r.message for r in plan.rejected if r.index == index]
        assert rejected == status["rejected"], f"event {index}"
        assert plan.delivered(index) == status["delivered"], f"event {index}"


@pytest.mark.parametrize("case", _cases("ortto-presets.json"))
def test_presets(case: dict[str, Any]) -> None:
    _check_case(case)


@pytest.mark.parametrize("case", _cases("ortto-custom.json"))
def test_custom_subscriptions(case: dict[str, Any]) -> None:
    _check_case(case)


@pytest.mark.parametrize("case", _cases("ortto-sdk.json"))
def test_sdk_events(case: dict[str, Any]) -> None:
    _check_case(case)
    spec = case["subscriptions"]
    subscriptions = (
        None if spec == "presets" else [SubscriptionConfig.model_validate(s) for s in spec]
    )
    router = compile_router(subscriptions)
    plan = plan_batch(router, case["events"])
    if not case["batch"]:
        # One request per event and subscription, as Segment's single-event path sends them.
        assert all(len(request.body) == 1 for request in plan.requests)
        assert {route.name for route in router.routes} == set(router.unbatched)
    else:
        assert router.unbatched == ()
    assert [(r.path, len(r.body)) for r in plan.requests] == [
        (r["path"], len(r["body"])) for r in case["requests"]
    ]


def test_the_sdk_vectors_are_all_there() -> None:
    cases = json.loads((HERE / "ortto-sdk.json").read_text())["cases"]
    assert len(cases) == 60
    assert {case["batch"] for case in cases} == {True, False}


def test_requests_are_grouped_per_subscription_like_the_reference() -> None:
    # Beyond the per-endpoint comparison: the reference makes one request per subscription and
    # endpoint, in subscription order; so does the plan.
    for name in ("ortto-presets.json", "ortto-custom.json", "ortto-sdk.json"):
        for case in json.loads((HERE / name).read_text())["cases"]:
            spec = case["subscriptions"]
            subscriptions = (
                None if spec == "presets" else [SubscriptionConfig.model_validate(s) for s in spec]
            )
            plan = plan_batch(compile_router(subscriptions), case["events"])
            assert [r.path for r in plan.requests] == [r["path"] for r in case["requests"]]


def test_json_equal() -> None:
    assert json_equal({"a": [1, 2.0]}, {"a": [1.0, 2]})
    assert not json_equal(True, 1)
    assert not json_equal({"a": None}, {})
    assert not json_equal([1], [1, 2])
