"""The lean intake (benchmarks): items counted and answered all-accepted without validation or
storage, faults still applied, latencies and answers recorded for the benchmark to read."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import orjson
import pytest

from streamer.sandbox import SandboxProcess, SandboxServer, _lean
from streamer.sandbox._lean import LeanIntake
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


# -- the fast way (timestamps alone) answers and records as the general way -------------------

_OLD = "2020-01-02T03:04:05.678Z"  # older than the histogram's cap: the same bucket whenever
_LATER = "2999-01-01T00:00:00+00:00"  # after the answer: bucket 0 whenever


def _bodies(activity: Factory, contact: Factory) -> list[tuple[str, bytes]]:
    """(endpoint, body): what streamer sends, and every kind of body the fast way passes on."""
    def dumps(items: list[Any]) -> bytes:
        return orjson.dumps(items)

    return [
        ("track", dumps([activity(n, timestamp=_OLD) for n in range(300)])),
        ("identify", dumps([contact(n, timestamp=_LATER) for n in range(200)])),
        ("track", dumps([activity(1, timestamp=None), {"no": "timestamp"}, {}])),
        ("track", dumps([activity(1, timestamp="yesterday"), activity(2, timestamp=_OLD)])),
        ("track", dumps([activity(1, timestamp=1_700_000_000), activity(2, timestamp=_OLD)])),
        ("track", dumps([activity(1, timestamp=_OLD), [1, 2], "x", None])),
        ("track", b'[{"timestamp": "' + _OLD.encode() + b'", "event": "caf\xe9"}]'),  # not UTF-8
        ("track", b'[{"timestamp": "' + _OLD.encode() + b'", "event": }]'),  # not JSON
        ("track", b'{"timestamp": "' + _OLD.encode() + b'"}'),  # not an array
        ("track", b"[]"),
        ("track", dumps([activity(n, timestamp=_OLD) for n in range(501)])),  # too many
        ("audiences", b'{"name": "VIPs"}'),
    ]


def _recorded(sandbox: SandboxServer, auth: dict[str, str],
              bodies: list[tuple[str, bytes]]) -> tuple[list[Any], Any, Any]:
    with httpx.Client(base_url=sandbox.url, headers=auth, timeout=10) as client:
        answers = []
        for endpoint, body in bodies:
            path = "/audiences/create" if endpoint == "audiences" else f"/{endpoint}"
            answer = client.post(path, content=body)
            answered = answer.json()
            answered.pop("id", None)  # an audience's id is drawn at random
            answers.append((answer.status_code, answered))
    report = sandbox.state.intake_report()
    assert report is not None
    per_second = report.pop("per_second")
    report.pop("first_answer"), report.pop("last_answer")
    totals = [sum(second[i] for second in per_second) for i in (1, 2, 3)]
    return answers, report, (totals, sandbox.state.stats()["endpoints"])


def _unreadable(text: str) -> Any:
    """The fast way refusing every body: each goes the general way."""
    raise msgspec.DecodeError("refused by the test")


def test_reading_timestamps_alone_answers_and_records_as_a_full_decode(
    make_sandbox: ServerFactory, auth: dict[str, str], activity: Factory, contact: Factory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bodies = _bodies(activity, contact)
    read_whole: list[int] = []
    take = LeanIntake.take

    def counted_take(self: LeanIntake, items: list[Any]) -> None:
        read_whole.append(len(items))
        take(self, items)

    monkeypatch.setattr(LeanIntake, "take", counted_take)
    fast = _recorded(make_sandbox(intake="lean"), auth, bodies)
    # streamer's bodies, null and absent timestamps, an empty array: read by timestamp alone;
    # a timestamp that is no date-time, a non-object item: decoded whole.
    assert read_whole == [2, 2, 4]
    monkeypatch.setattr(_lean, "_read_stamps", _unreadable)  # all decoded whole
    read_whole.clear()
    general = _recorded(make_sandbox(intake="lean"), auth, bodies)
    assert read_whole == [300, 200, 3, 2, 2, 4, 0]
    assert fast == general
    answers, report, _ = fast
    assert [status for status, _ in answers] == [200] * 6 + [400, 400, 400, 200, 413, 200]
    assert report["items"] == 511 and report["latency_ms"]["count"] == 503
    assert report["latency_ms"]["unparsed"] == 3 + 1 + 1 + 3


def test_the_one_body_read_differently_is_a_number_beyond_a_double_in_an_unread_field(
    make_sandbox: ServerFactory, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    body = b'[{"timestamp": "' + _OLD.encode() + b'", "value": 1e400}]'
    with httpx.Client(base_url=make_sandbox(intake="lean").url, headers=auth, timeout=10) as c:
        assert c.post("/track", content=body).status_code == 200  # skipped unread
    monkeypatch.setattr(_lean, "_read_stamps", _unreadable)
    with httpx.Client(base_url=make_sandbox(intake="lean").url, headers=auth, timeout=10) as c:
        assert c.post("/track", content=body).status_code == 400  # orjson: out of range
