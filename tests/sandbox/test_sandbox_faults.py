"""Each fault kind over real HTTP, the schedules (window, count), seeds and plan parsing."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from streamer.sandbox import FaultPlan, SandboxServer, load_fault_plan
from streamer.sandbox._faults import FaultSchedule
from streamer.testing import FakeClock

Factory = Callable[..., dict[str, Any]]
ServerFactory = Callable[..., SandboxServer]


def _client(sandbox: SandboxServer, auth: dict[str, str], timeout: float = 10) -> httpx.Client:
    return httpx.Client(base_url=sandbox.url, headers=auth, timeout=timeout)


def _failed_indexes(
    make_sandbox: ServerFactory, auth: dict[str, str], items: list[dict[str, Any]], seed: int
) -> list[int]:
    plan = {"seed": seed, "rules": [{"kind": "item_error", "status": 500, "rate": 0.3}]}
    sandbox = make_sandbox(faults=plan)
    with _client(sandbox, auth) as client:
        errors = client.post("/track", json=items).json()["errors"]
    stored = {item["message_id"] for item in sandbox.state.activities}
    failed = [error["index"] for error in errors]
    # a 5xx item in a multi-status answer was NOT accepted: it is not stored
    assert stored == {items[i]["message_id"] for i in range(len(items)) if i not in failed}
    assert all(error["status"] == 500 for error in errors)
    return failed


def test_item_errors_at_a_rate_are_reproducible_with_a_seed(
    make_sandbox: ServerFactory, auth: dict[str, str], activity: Factory
) -> None:
    items = [activity(n) for n in range(200)]
    first = _failed_indexes(make_sandbox, auth, items, seed=42)
    again = _failed_indexes(make_sandbox, auth, items, seed=42)
    other = _failed_indexes(make_sandbox, auth, items, seed=43)
    assert first == again
    assert first != other
    assert 30 <= len(first) <= 90  # 30% of 200, loosely


@pytest.mark.parametrize("status", [400, 429, 500, 503])
def test_item_errors_with_a_status_for_the_next_request(
    make_sandbox: ServerFactory, auth: dict[str, str], activity: Factory, status: int
) -> None:
    plan = [{"kind": "item_error", "status": status, "count": 1, "message": "boom"}]
    sandbox = make_sandbox(faults=plan)
    with _client(sandbox, auth) as client:
        first = client.post("/track", json=[activity(1), activity(2)])
        second = client.post("/track", json=[activity(3)])
    assert first.status_code == 200
    assert first.json()["errors"] == [
        {"status": status, "message": "boom", "index": 0},
        {"status": status, "message": "boom", "index": 1},
    ]
    assert second.json() == {"errors": []}
    assert [item["message_id"] for item in sandbox.state.activities] == ["m-3"]


def test_item_errors_leave_invalid_items_to_validation(
    make_sandbox: ServerFactory, auth: dict[str, str], activity: Factory
) -> None:
    sandbox = make_sandbox(faults=[{"kind": "item_error", "status": 500}])
    with _client(sandbox, auth) as client:
        errors = client.post("/track", json=[activity(1, ip="bad"), activity(2)]).json()["errors"]
    assert [(e["index"], e["status"]) for e in errors] == [(0, 400), (1, 500)]


def test_request_errors_only_on_the_chosen_endpoints(
    make_sandbox: ServerFactory, auth: dict[str, str], activity: Factory, contact: Factory
) -> None:
    sandbox = make_sandbox(faults=[{"kind": "request_error", "endpoints": ["track"]}])
    with _client(sandbox, auth) as client:
        track = client.post("/track", json=[activity(1)])
        identify = client.post("/identify", json=[contact(1)])
        me = client.get("/me")
    assert track.status_code == 503
    assert track.json()["error"]["code"] == "injected"
    assert (identify.status_code, me.status_code) == (200, 200)
    assert sandbox.state.activities == []
    assert len(sandbox.state.contacts) == 1
    assert sandbox.state.stats()["bad_requests"] == 0  # our fault, not the caller's


@pytest.mark.parametrize(
    ("hint", "header", "body"),
    [("both", "3", 3), ("header", "3", None), ("body", None, 3), ("none", None, None)],
)
def test_rate_limit_answers(
    make_sandbox: ServerFactory,
    auth: dict[str, str],
    activity: Factory,
    hint: str,
    header: str | None,
    body: int | None,
) -> None:
    rule = {"kind": "rate_limit", "retry_after": 3, "retry_hint": hint, "count": 1}
    sandbox = make_sandbox(faults=[rule])
    with _client(sandbox, auth) as client:
        limited = client.post("/track", json=[activity(1)])
        after = client.post("/track", json=[activity(2)])
    assert limited.status_code == 429
    assert limited.headers.get("Retry-After") == header
    error = limited.json()["error"]
    assert error["code"] == "rate-limit" and error["message"] == "rate limit"
    assert error.get("try-in-seconds") == body
    assert after.status_code == 200
    assert [item["message_id"] for item in sandbox.state.activities] == ["m-2"]


def test_throttle_limits_requests_per_second(
    make_sandbox: ServerFactory, auth: dict[str, str]
) -> None:
    clock = FakeClock()  # the bucket's time moves only when the test says so
    sandbox = make_sandbox(faults=[{"kind": "throttle", "rps": 2}], clock=clock)
    with _client(sandbox, auth) as client:
        statuses = [client.get("/me").status_code for _ in range(6)]
        limited = client.get("/me")
        clock.advance(0.6)  # 1.2 tokens: one request
        recovered = [client.get("/me").status_code for _ in range(2)]
        clock.advance(1.0)  # 0.2 + 2 tokens, capped at the burst of 2
        refilled = [client.get("/me").status_code for _ in range(3)]
    assert statuses == [200, 200, 429, 429, 429, 429]  # a burst of 2, then nothing at all
    assert limited.status_code == 429
    assert limited.json()["error"]["try-in-seconds"] == 1  # one token at 2/s: 0.5 s, ceiled
    assert limited.headers["Retry-After"] == "1"
    assert recovered == [200, 429]
    assert refilled == [200, 200, 429]


def test_delay_slows_the_answer_but_keeps_the_items(
    make_sandbox: ServerFactory, auth: dict[str, str], activity: Factory
) -> None:
    sandbox = make_sandbox(faults=[{"kind": "delay", "seconds": 0.3, "count": 1}])
    with _client(sandbox, auth) as client:
        started = time.monotonic()
        slow = client.post("/track", json=[activity(1)])
        slow_seconds = time.monotonic() - started
        fast = client.post("/track", json=[activity(2)])
    assert slow.json() == {"errors": []} and fast.json() == {"errors": []}
    assert slow_seconds >= 0.3
    # The second request was not delayed (whatever the machine's speed): the rule fired once,
    # on the first, and is spent.
    (rule,) = sandbox.state.faults.describe()
    assert (rule["fired"], rule["remaining"]) == (1, 0)
    assert sandbox.state.requests[0]["duration_ms"] >= 300
    assert len(sandbox.state.activities) == 2


def test_delays_add_up_before_the_deciding_fault(
    make_sandbox: ServerFactory, auth: dict[str, str]
) -> None:
    plan = [
        {"kind": "delay", "seconds": 0.15},
        {"kind": "delay", "seconds": 0.15},
        {"kind": "request_error", "status": 502},
    ]
    sandbox = make_sandbox(faults=plan)
    with _client(sandbox, auth) as client:
        started = time.monotonic()
        response = client.get("/me")
    assert response.status_code == 502
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize("store", [False, True])
def test_hang_outlasts_the_client_timeout(
    make_sandbox: ServerFactory, auth: dict[str, str], activity: Factory, store: bool
) -> None:
    sandbox = make_sandbox(faults=[{"kind": "hang", "count": 1, "store": store}])
    with _client(sandbox, auth) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.post("/track", json=[activity(1)], timeout=httpx.Timeout(10, read=0.3))
        # The next request has the usual timeout: a busy machine does not time it out.
        assert client.post("/track", json=[activity(2)]).json() == {"errors": []}
    expected = ["m-1", "m-2"] if store else ["m-2"]
    assert [item["message_id"] for item in sandbox.state.activities] == expected


def test_a_short_hang_then_closes_the_connection(
    make_sandbox: ServerFactory, auth: dict[str, str]
) -> None:
    sandbox = make_sandbox(faults=[{"kind": "hang", "seconds": 0.2, "count": 1}])
    with _client(sandbox, auth) as client, pytest.raises(httpx.RemoteProtocolError):
        client.get("/me")
    assert sandbox.state.stats()["endpoints"]["me"]["statuses"] == {"dropped": 1}


@pytest.mark.parametrize("store", [False, True])
def test_drop_closes_the_connection_without_an_answer(
    make_sandbox: ServerFactory, auth: dict[str, str], activity: Factory, store: bool
) -> None:
    sandbox = make_sandbox(faults=[{"kind": "drop", "count": 1, "store": store}])
    with _client(sandbox, auth) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/track", json=[activity(1)])
        assert client.post("/track", json=[activity(2)]).json() == {"errors": []}
    expected = ["m-1", "m-2"] if store else ["m-2"]
    assert [item["message_id"] for item in sandbox.state.activities] == expected
    log = sandbox.state.requests
    assert log[0]["status"] is None and log[0]["outcome"] == "fault:drop"


def test_a_key_stops_being_valid_for_a_while(
    make_sandbox: ServerFactory, auth: dict[str, str]
) -> None:
    clock = FakeClock()
    sandbox = make_sandbox(clock=clock)
    with _client(sandbox, auth) as client:
        sandbox.state.set_faults(
            [{"kind": "unauthorized", "start": 0.5, "end": 1.0, "status": 403}]
        )
        configured = clock.now
        statuses: list[int] = []
        # Seconds after the plan was set (binary fractions: exact sums, exact boundaries).
        for at in (0.0, 0.4375, 0.5, 0.75, 0.9375, 1.0, 1.25):
            clock.now = configured + at
            response = client.get("/me")
            statuses.append(response.status_code)
            if response.status_code == 403:
                assert response.json()["error"]["code"] == "unauthorized"
    assert statuses == [200, 200, 403, 403, 403, 200, 200]  # active in [start, end)


def test_count_limits_how_often_a_rule_fires(
    make_sandbox: ServerFactory, auth: dict[str, str]
) -> None:
    sandbox = make_sandbox(faults=[{"kind": "request_error", "status": 500, "count": 2}])
    with _client(sandbox, auth) as client:
        statuses = [client.get("/me").status_code for _ in range(4)]
    assert statuses == [500, 500, 200, 200]
    (rule,) = sandbox.state.faults.describe()
    assert (rule["fired"], rule["remaining"]) == (2, 0)


def test_set_faults_at_run_time_restarts_the_schedule(
    make_sandbox: ServerFactory, auth: dict[str, str]
) -> None:
    clock = FakeClock()
    sandbox = make_sandbox(clock=clock)
    with _client(sandbox, auth) as client:
        assert client.get("/me").status_code == 200
        clock.advance(5.0)  # long after the state was made: the window counts from set_faults
        sandbox.state.set_faults([{"kind": "request_error", "start": 0.2}])
        assert client.get("/me").status_code == 200
        clock.advance(0.25)
        assert client.get("/me").status_code == 503
        sandbox.state.clear_faults()
        assert client.get("/me").status_code == 200


def test_the_schedule_is_deterministic_for_a_seed() -> None:
    plan = FaultPlan.parse(
        {"seed": 5, "rules": [{"kind": "request_error", "rate": 0.5, "status": 500}]}
    )

    def decisions() -> list[bool]:
        schedule = FaultSchedule(plan, now=0.0)
        return [schedule.decide("track", now=1.0).terminal is not None for _ in range(50)]

    first = decisions()
    assert first == decisions()
    assert 10 < sum(first) < 40


def test_a_delay_range_draws_each_requests_delay_from_the_seeded_source() -> None:
    plan = FaultPlan.parse({"seed": 9, "rules": [
        {"kind": "delay", "seconds": 0.01, "seconds_max": 0.08, "endpoints": ["identify"]}]})

    def delays() -> list[float]:
        schedule = FaultSchedule(plan, now=0.0)
        return [schedule.decide("identify", now=1.0).delay for _ in range(200)]

    drawn = delays()
    assert drawn == delays()
    assert all(0.01 <= d <= 0.08 for d in drawn)
    assert min(drawn) < 0.02 and max(drawn) > 0.07 and len(set(drawn)) == 200
    assert FaultSchedule(plan, now=0.0).decide("track", now=1.0).delay == 0.0


def test_plans_are_checked() -> None:
    assert FaultPlan.parse(None) == FaultPlan()
    assert FaultPlan.parse([{"kind": "drop"}]).rules[0].kind == "drop"
    for bad in (
        [{"kind": "explode"}],
        [{"kind": "delay", "start": 2, "end": 1}],
        [{"kind": "throttle"}],
        [{"kind": "unauthorized", "status": 500}],
        [{"kind": "item_error", "rate": 1.5}],
        [{"kind": "drop", "typo": 1}],
        [{"kind": "request_error", "endpoints": ["nowhere"]}],
        [{"kind": "delay", "seconds": 0.5, "seconds_max": 0.1}],
        [{"kind": "hang", "seconds_max": 1}],
    ):
        with pytest.raises(ValidationError):
            FaultPlan.parse(bad)


def test_plans_load_from_yaml_and_json(tmp_path: Path) -> None:
    yaml_file = tmp_path / "faults.yaml"
    yaml_file.write_text(
        "seed: 3\nrules:\n  - kind: rate_limit\n    retry_after: 2\n    endpoints: [track]\n"
    )
    json_file = tmp_path / "faults.json"
    json_file.write_text('[{"kind": "item_error", "status": 429, "rate": 0.1}]')
    from_yaml = load_fault_plan(str(yaml_file))
    assert from_yaml.seed == 3
    assert from_yaml.rules[0].retry_after == 2
    assert from_yaml.rules[0].endpoints == ("track",)
    assert load_fault_plan(str(json_file)).rules[0].effective_status == 429
