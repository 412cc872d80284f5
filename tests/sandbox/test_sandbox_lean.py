"""The lean intake (benchmarks): items counted and answered all-accepted without validation or
storage, faults still applied, latencies and answers recorded for the benchmark to read."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from streamer.sandbox import SandboxProcess, SandboxServer
from streamer.sender._answers import parse_item_errors, retry_after_seconds

Factory = Callable[..., dict[str, Any]]
ServerFactory = Callable[..., SandboxServer]


def _stamp(seconds_ago: float) -> str:
    moment = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_items_are_counted_and_answered_without_validation_or_storage(
    make_sandbox: ServerFactory, auth: dict[str, str], activity: Factory, contact: Factory
) -> None:
    sandbox = make_sandbox(intake="lean")
    # An item the full intake refuses (bad ip) is accepted: the lean intake does not look.
    items = [activity(n) for n in range(10)] + [activity(99, ip="not-an-ip")]
    with httpx.Client(base_url=sandbox.url, headers=auth, timeout=10) as client:
        answer = client.post("/track", json=items)
        assert answer.status_code == 200
        assert parse_item_errors(answer.content, len(items)) == []
        assert client.post("/identify", json=[contact(1), contact(2)]).json() == {"errors": []}
        assert client.post("/track", content=b"[1, 2").status_code == 400
        too_many = client.post("/track", json=[activity(n) for n in range(501)])
        assert too_many.status_code == 413
    stats = sandbox.state.stats()
    assert stats["intake"] == "lean"
    assert stats["endpoints"]["track"]["accepted"] == 11
    assert stats["endpoints"]["identify"]["accepted"] == 2
    assert stats["activities"] == 0 and stats["contacts"] == 0  # nothing stored
    report = sandbox.state.intake_report()
    assert report is not None
    assert report["items"] == 13
    assert report["requests"] == 4  # the 400 and the 413 are answers too
    assert sum(second[2] for second in report["per_second"]) == 13
    assert report["first_answer"] is not None and report["last_answer"] is not None


def test_latency_runs_from_the_item_timestamp_to_the_answer(
    make_sandbox: ServerFactory, auth: dict[str, str], activity: Factory
) -> None:
    sandbox = make_sandbox(intake="lean")
    items = [activity(n, timestamp=_stamp(2.0)) for n in range(99)] + [activity(100)]
    with httpx.Client(base_url=sandbox.url, headers=auth, timeout=10) as client:
        assert client.post("/track", json=items).json() == {"errors": []}
        assert client.post("/track", json=[{"no": "timestamp"}]).json() == {"errors": []}
    report = sandbox.state.intake_report()
    assert report is not None
    latency = report["latency_ms"]
    assert latency["count"] == 100 and latency["unparsed"] == 1
    p50 = latency["p50"]
    assert isinstance(p50, int) and 2_000 <= p50 < 60_000
    # activity(100)'s timestamp is in 2026-11: an age, not a latency, lands in the last bucket.
    assert latency["max"] == 600_000
    sandbox.state.reset()
    assert sandbox.state.intake_report() == {
        "requests": 0, "items": 0, "throttled": 0, "first_answer": None, "last_answer": None,
        "per_second": [], "latency_ms": {"count": 0, "p50": None, "p90": None, "p99": None,
                                         "max": None, "unparsed": 0},
    }


def test_faults_still_apply(
    make_sandbox: ServerFactory, auth: dict[str, str], activity: Factory
) -> None:
    plan = {"seed": 1, "rules": [
        {"kind": "throttle", "rps": 1, "endpoints": ["track"]},
        {"kind": "item_error", "status": 500, "rate": 1.0, "endpoints": ["identify"]},
    ]}
    sandbox = make_sandbox(intake="lean", faults=plan)
    with httpx.Client(base_url=sandbox.url, headers=auth, timeout=10) as client:
        first = client.post("/track", json=[activity(1)])
        second = client.post("/track", json=[activity(2)])
        errors = client.post("/identify", json=[{"user_id": "u1"}]).json()["errors"]
    assert first.status_code == 200
    assert second.status_code == 429
    assert retry_after_seconds(second.headers, second.content) == 1.0
    assert second.json()["error"]["try-in-seconds"] == 1
    assert errors == [{"status": 500, "message": "internal server error (injected)", "index": 0}]
    report = sandbox.state.intake_report()
    assert report is not None
    assert report["throttled"] == 1 and report["items"] == 1


def test_the_full_intake_has_no_report(sandbox: SandboxServer) -> None:
    assert sandbox.state.intake_report() is None
    with sandbox.client() as control, pytest.raises(httpx.HTTPStatusError):
        control.intake()


def test_the_process_takes_the_intake_option(activity: Factory) -> None:
    with SandboxProcess(api_keys=["pau-test-key"], ban=False, intake="lean") as sandbox:
        headers = {"Authorization": "Bearer pau-test-key"}
        sent = time.time()
        answer = httpx.post(f"{sandbox.url}/track", json=[activity(1, timestamp=_stamp(0))],
                            headers=headers, timeout=10)
        assert answer.json() == {"errors": []}
        report = sandbox.control.intake()
        assert report["items"] == 1
        assert report["first_answer"] is not None and report["first_answer"] >= sent - 1
        assert sandbox.control.stats()["intake"] == "lean"
