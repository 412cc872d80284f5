"""Segment's own engine as the benchmark's anchor (bench/segment_engine): it does streamer's work.

On generated Segment events (identify, track, page; empty strings, a trait-less identify whose
``context.traits`` stand in, blank event names, Ortto's own namespace, a malformed ip), the
requests the engine's loopback sink received hold the same items, per endpoint and in the same
order, as streamer's router plans for those events, with the presets and with custom
subscriptions (an event matching two of them), and the engine's counts (routed, accepted,
rejected, items) agree with that plan; the timed run reports its figures and the pinned
versions; an event that is not JSON is named; without node there is no figure, and a reason.

Skipped where ``node``/``npm`` is missing or the engine is not installed
(``python bench/segment_engine/run.py --install`` installs it, about a minute).
"""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
import uuid
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from streamer.config import SubscriptionConfig
from streamer.routing import BatchPlan, compile_router, plan_batch

ROOT = Path(__file__).resolve().parents[2]
BATCH = 200  # below the event count, so that the engine's batching is exercised too


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem + "_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run = _load(ROOT / "bench" / "segment_engine" / "run.py")
json_equal = _load(ROOT / "tests" / "conformance" / "_compare.py").json_equal


@pytest.fixture(scope="module")
def engine() -> None:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not on PATH")
    if run.installed_engine() is None:
        pytest.skip("Segment's engine is not installed: python bench/segment_engine/run.py "
                    "--install")


def _context(rng: random.Random) -> dict[str, Any]:
    return {
        "ip": rng.choice(["203.0.113.7", "198.51.100.23", "192.0.2.140"]),
        "library": {"name": "analytics.js", "version": "next-1.70.0"},
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                     "Chrome/131.0.0.0 Safari/537.36",
        "locale": "en-AU",
        "page": {"path": "/pricing", "referrer": "", "title": "Pricing",
                 "url": "https://example.com/pricing"},
        "app": {"name": "shop", "namespace": "com.example.shop"},
        "campaign": {"name": "spring", "source": "newsletter"},
    }


def _event(rng: random.Random, n: int) -> dict[str, Any]:
    kind = rng.choices(["identify", "track", "page"], weights=[45, 45, 10])[0]
    event: dict[str, Any] = {
        "type": kind,
        "messageId": str(uuid.UUID(int=rng.getrandbits(128))),
        "anonymousId": str(uuid.UUID(int=rng.getrandbits(128))),
        "timestamp": f"2026-11-{rng.randint(1, 28):02d}T10:{rng.randint(0, 59):02d}:00.000Z",
        "originalTimestamp": "2026-11-28T10:07:00.900Z",
        "sentAt": "2026-11-28T10:07:01.000Z",
        "receivedAt": "2026-11-28T10:07:01.200Z",
        "context": _context(rng),
        "integrations": {},
        "version": 2,
    }
    if rng.random() < 0.7:
        event["userId"] = f"user-{n}"
    address = {"city": "Sydney", "state": rng.choice(["NSW", ""]), "country": "AU",
               "postal_code": "2000"}
    traits = {"email": f"user{n}@example.com", "first_name": rng.choice(["Ada", ""]),
              "plan": "pro", "address": address}
    if kind == "identify" and rng.random() < 0.2:
        event["context"]["traits"] = traits  # the mapping falls back to context.traits
    elif kind == "identify":
        event["traits"] = traits
    elif kind == "track":
        event["event"] = rng.choices(["Order Completed", "Signed Up", " ", ""],
                                     weights=[60, 30, 5, 5])[0]
        event["properties"] = {"order_id": f"o-{n}", "total": round(rng.uniform(1, 300), 2),
                               "coupon": rng.choice(["", "SPRING"]),
                               "products": [{"sku": "S-1", "price": 12.5, "quantity": 1}]}
        event["context"]["traits"] = {"email": traits["email"]}
        if rng.random() < 0.03:
            event["context"]["app"]["namespace"] = "ortto.com"  # loop prevention: not sent
    else:
        event["name"] = "Pricing"
        event["properties"] = {"path": "/pricing"}
    if rng.random() < 0.01:
        event["context"]["ip"] = "not-an-ip"  # fails the action's ipv4 format
    return event


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    rng = random.Random(14)
    batch = [_event(rng, n) for n in range(1000)]
    path = tmp_path_factory.mktemp("segment-engine") / "events.ndjson"
    path.write_text("".join(json.dumps(e) + "\n" for e in batch))
    return path, batch


def _same_work(result: dict[str, Any], dump: Path, plan: BatchPlan, events: int) -> None:
    """The requests the sink received hold the planned items; the counts are the plan's."""
    received = [json.loads(line) for line in dump.read_text().splitlines()]
    sent: dict[str, list[Any]] = defaultdict(list)
    for request in received:
        assert (request["method"], request["auth"]) == ("POST", "Bearer pau-streamer-benchmark")
        assert 0 < len(request["body"]) <= BATCH
        sent[request["path"]].extend(request["body"])
    planned: dict[str, list[Any]] = defaultdict(list)
    for planned_request in plan.requests:
        planned[planned_request.path].extend(planned_request.body)
    assert sorted(sent) == ["/v1/identify", "/v1/track"] == sorted(planned)
    for endpoint, ours_all in planned.items():
        assert len(sent[endpoint]) == len(ours_all), endpoint
        for position, (theirs, ours) in enumerate(zip(sent[endpoint], ours_all, strict=True)):
            assert json_equal(theirs, ours), f"{endpoint} item {position}: {theirs} != {ours}"

    items = sum(len(r.body) for r in plan.requests)
    assert (result["events"], result["routed"]) == (events, events - len(plan.filtered))
    assert (result["items"], result["requests"]) == (items, len(received))
    assert result["rejected"] == len(plan.rejected)
    # A skipped item (Ortto's own namespace) is a success that is not sent.
    assert result["accepted"] == sum(plan.delivered(i) for i in range(events))
    assert items == result["accepted"] - len(plan.skipped)


def test_the_engine_sends_what_streamer_sends(
    engine: None, events: tuple[Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    path, batch = events
    dump = tmp_path / "requests.ndjson"
    result = run.measure(path, BATCH, dump=dump)
    assert result is not None
    plan = plan_batch(compile_router(None), batch, max_items=BATCH)
    assert plan.rejected and plan.skipped and plan.filtered  # the generator made each kind
    _same_work(result, dump, plan, len(batch))


# Segment's shape (streamer's configuration reads it too): an event can match both.
CUSTOM = [
    {"subscribe": 'type = "track" and event != "Order Refunded"', "partnerAction": "trackActivity",
     "mapping": {"user_id": {"@path": "$.userId"}, "anonymous_id": {"@path": "$.anonymousId"},
                 "message_id": {"@path": "$.messageId"}, "enable_batching": True,
                 "event": {"@template": "{{event}} (web)"},
                 "properties": {"total": {"@path": "$.properties.total"},
                                "coupon": {"@path": "$.properties.coupon"}}}},
    {"subscribe": 'type = "identify" or event = "Signed Up"',
     "partnerAction": "upsertContactProfile",
     "mapping": {"user_id": {"@path": "$.userId"}, "anonymous_id": {"@path": "$.anonymousId"},
                 "ip": {"@path": "$.context.ip"}, "enable_batching": True,
                 "traits": {"email": {"@if": {"exists": {"@path": "$.traits.email"},
                                              "then": {"@path": "$.traits.email"},
                                              "else": {"@path": "$.context.traits.email"}}},
                            "source": {"@literal": "web"}}}},
]


def test_custom_subscriptions_too(
    engine: None, events: tuple[Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    path, batch = events
    subscriptions = tmp_path / "subscriptions.json"
    subscriptions.write_text(json.dumps(CUSTOM))
    dump = tmp_path / "requests.ndjson"
    result = run.measure(path, BATCH, subscriptions=str(subscriptions), dump=dump)
    assert result is not None
    router = compile_router([SubscriptionConfig.model_validate(s) for s in CUSTOM])
    plan = plan_batch(router, batch, max_items=BATCH)
    assert any(len(outcomes) == 2 for outcomes in plan.outcomes)
    _same_work(result, dump, plan, len(batch))


def test_the_timed_run_reports_its_figures(
    engine: None, events: tuple[Path, list[dict[str, Any]]]
) -> None:
    path, batch = events
    result = run.measure(path, BATCH, passes=2, warmup=300, limit=800)
    assert result is not None
    assert len(result["passes"]) == 2
    for figures in result["passes"]:
        assert (figures["events"], figures["items"]) == (result["events"], result["items"])
    plan = plan_batch(compile_router(None), batch[:800], max_items=BATCH)
    assert (result["events"], result["items"]) == (800, sum(len(r.body) for r in plan.requests))
    assert result["events_per_s"] == pytest.approx(result["events"] / result["seconds"])
    assert result["cpu_us_per_event"] == pytest.approx(result["cpu_s"] / result["events"] * 1e6)
    assert result["cpu_s"] > 0 and result["decode_cpu_us_per_event"] > 0
    pinned = json.loads((ROOT / "bench" / "segment_engine" / "package.json").read_text())
    for name, version in pinned["dependencies"].items():
        assert result["versions"][name] == version


def test_an_event_that_is_not_json_is_named(
    engine: None, events: tuple[Path, list[dict[str, Any]]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = tmp_path / "broken.ndjson"
    lines = events[0].read_text().splitlines()
    broken.write_text("\n".join([*lines[:2], "", lines[2][:-1], *lines[3:5]]) + "\n")
    assert run.measure(broken, warmup=0, passes=1) is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{broken}: event 3: not JSON (SyntaxError)" in err


def test_without_node_there_is_no_figure_and_a_reason(
    events: tuple[Path, list[dict[str, Any]]], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no node, no npm
    assert run.measure(events[0]) is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "node is not on PATH" in err
