"""The SDK-shaped events of the benchmarks: their size, variety, determinism, and that every one
of them maps through the default presets without a reject (else the benchmark would measure
dead letters, not deliveries)."""

from __future__ import annotations

import statistics
import uuid
from collections import Counter

import orjson
import pytest

from streamer.routing import Accepted, compile_router
from streamer.testing import SDK_MIXES, sdk_events, sdk_records


def test_identify_track_events_are_about_a_kilobyte_and_map_without_rejects() -> None:
    records = sdk_records(3_000, seed=3)
    sizes = [len(value) for _, value in records]
    assert 800 <= statistics.median(sizes) <= 1_400
    router = compile_router(None)
    kinds: Counter[str] = Counter()
    for _, value in records:
        event = orjson.loads(value)
        kinds[event["type"]] += 1
        outcomes = router.route(event)
        assert len(outcomes) == 1, event["type"]
        assert type(outcomes[0]) is Accepted, outcomes[0]
    assert set(kinds) == {"identify", "track"}
    assert abs(kinds["identify"] - kinds["track"]) < 300


def test_filter_mix_is_mostly_pages_and_screens_that_no_preset_matches() -> None:
    router = compile_router(None)
    kinds: Counter[str] = Counter()
    for _, event in sdk_events(4_000, seed=4, mix="filter"):
        kinds[event["type"]] += 1
        outcomes = router.route(event)
        if event["type"] == "track":
            assert [type(o) for o in outcomes] == [Accepted]
        else:
            assert outcomes == []
    assert kinds["page"] + kinds["screen"] > 0.9 * 4_000
    assert 100 < kinds["track"] < 320
    assert set(SDK_MIXES) == {"identify_track", "filter"}


def test_events_carry_what_segment_libraries_send() -> None:
    events = [event for _, event in sdk_events(2_000, seed=5)]
    libraries = {event["context"]["library"]["name"] for event in events}
    assert {"analytics.js", "analytics-node", "analytics-ios", "analytics-android"} <= libraries
    for event in events:
        uuid.UUID(event["messageId"])
        uuid.UUID(event["anonymousId"])
        for key in ("originalTimestamp", "sentAt", "receivedAt", "timestamp", "integrations"):
            assert key in event
        assert event["version"] == 2
        assert "ip" in event["context"]
    web = [e for e in events if "userAgent" in e["context"]]
    assert web and all(set(e["context"]["page"]) >= {"path", "referrer", "search", "title", "url"}
                       for e in web)
    assert 0 < sum("campaign" in e["context"] for e in web) < len(web)
    with_user = sum("userId" in e for e in events)
    assert 0.7 * len(events) < with_user < len(events)
    traits = next(e["traits"] for e in events if e["type"] == "identify")
    assert {"email", "first_name", "last_name", "phone", "address", "company", "created_at",
            "plan"} <= set(traits)
    assert len({e["event"] for e in events if e["type"] == "track"}) >= 5


def test_seeded_deterministic_and_keyed_by_user() -> None:
    assert sdk_records(300, seed=9) == sdk_records(300, seed=9)
    assert sdk_records(300, seed=9) != sdk_records(300, seed=10)
    for key, event in sdk_events(500, seed=9):
        assert key == (event.get("userId") or event["anonymousId"]).encode()
    keys = Counter(key for key, _ in sdk_records(2_000, seed=9))
    assert max(keys.values()) > 1  # users repeat, as on a real topic


def test_a_mix_naming_an_unknown_type_is_refused() -> None:
    with pytest.raises(ValueError, match="mix"):
        next(sdk_events(1, mix={"alias": 1.0}))
