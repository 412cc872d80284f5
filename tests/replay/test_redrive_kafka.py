"""``streamer redrive`` against the real broker and the sandbox over real HTTP."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from streamer.actions import presets
from streamer.app import (
    RangeRequest,
    Redrive,
    RedriveFilters,
    RedriveOptions,
    ReplaySummary,
    dead_letter_summary,
    plan_redrive,
)
from streamer.config import Config
from streamer.source import ClusterView
from streamer.testing import ConsumedMessage, KafkaCluster

from ._scene import Scene, events, scene


def _subscriptions(*, broken: bool) -> list[dict[str, Any]]:
    """The presets; broken: Track Activity maps the event's name to ``ip`` (never an IP)."""
    subscriptions = [copy.deepcopy(p.as_subscription()) for p in presets()]
    if broken:
        subscriptions[1]["mapping"]["ip"] = {"@path": "$.event"}
    return subscriptions


def _config(s: Scene, *, broken: bool) -> Config:
    return s.config(subscriptions=_subscriptions(broken=broken))


def _redrive(s: Scene, config: Config, filters: RedriveFilters | None = None,
             *, dry_run: bool = False) -> ReplaySummary:
    assert config.kafka is not None
    with ClusterView(config.kafka) as view:
        plan = plan_redrive(view, config, filters or RedriveFilters())
    return asyncio.run(Redrive(config, plan, RedriveOptions(dry_run=dry_run)).run())


def _letters(s: Scene, min_count: int = 0) -> list[ConsumedMessage]:
    """The dead letters of the topic (resolution records left out)."""
    records = s.broker.consume_all(s.dead_letter_topic, min_count=min_count)
    return [r for r in records if r.header("streamer.stage") is not None]


def _unresolved(s: Scene, config: Config) -> dict[str, Any]:
    assert config.kafka is not None
    with ClusterView(config.kafka) as view:
        return dead_letter_summary(view, s.dead_letter_topic, since_ms=0)


def _first_run(s: Scene, poison: int = 0) -> tuple[set[str], set[str]]:
    """Events through the broken configuration: tracks dead-lettered, identifies delivered
    (``poison``: values already in the topic that are not events)."""
    s.produce(events(200, seed=71), partitions=2)
    s.replay(RangeRequest(s.topic, from_beginning=True), config=_config(s, broken=True))
    tracks = {e["messageId"] for e in s.events if e["type"] == "track"}
    identifies = {e["messageId"] for e in s.events if e["type"] == "identify"}
    assert s.state.activities == []
    assert len(_letters(s, min_count=len(tracks) + poison)) == len(tracks) + poison
    return tracks, identifies


def test_a_redrive_after_a_fix_delivers_through_that_subscription_only_and_once(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> None:
    with scene(kafka_broker, new_topic(partitions=2)) as s:
        tracks, identifies = _first_run(s)
        identify_requests = s.state.stats()["endpoints"]["identify"]["requests"]
        fixed = _config(s, broken=False)
        summary = _redrive(s, fixed)
        assert {a["message_id"] for a in s.state.activities} == tracks
        # Nothing went through the other subscription again.
        assert s.state.stats()["endpoints"]["identify"]["requests"] == identify_requests
        assert len(s.state.contacts) == len(identifies)
        again = _redrive(s, fixed)
        assert len(s.state.activities) == len(tracks)  # nothing resent
        unresolved = _unresolved(s, fixed)
    assert summary.status == "done"
    assert summary.delivered == len(tracks) and summary.dead_lettered == 0
    assert summary.extra["resolved"] == len(tracks)
    assert summary.extra["groups"] == {"Track Activity": len(tracks)}
    assert again.extra["letters"] == 0 and again.consumed == 0
    assert again.extra["left"] == {"resolved": len(tracks)}
    assert unresolved["unresolved"] == 0 and unresolved["resolved"] == len(tracks)


def test_a_letter_that_fails_again_is_a_new_letter_one_redrive_higher(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> None:
    with scene(kafka_broker, new_topic(partitions=2)) as s:
        tracks, _ = _first_run(s)
        first = {(r.header("streamer.source.partition"), r.header("streamer.source.offset")): r
                 for r in _letters(s)}
        broken = _config(s, broken=True)
        summary = _redrive(s, broken)
        letters = _letters(s, min_count=2 * len(tracks))
        unresolved = _unresolved(s, broken)
        # The new letters are redriven up to --max-redrives, then left alone.
        second = _redrive(s, broken, RedriveFilters(max_redrives=2))
        third = _redrive(s, broken, RedriveFilters(max_redrives=2))
    new = [r for r in letters if r.header("streamer.redrives") is not None]
    assert len(new) == len(tracks) and summary.dead_lettered == len(tracks)
    for record in new:
        old = first[(record.header("streamer.source.partition"),
                     record.header("streamer.source.offset"))]
        assert record.header("streamer.redrives") == b"1"
        assert record.value == old.value and record.key == old.key
        assert record.header("streamer.source.topic") == old.header("streamer.source.topic")
        assert record.header("streamer.source.timestamp") == old.header(
            "streamer.source.timestamp")
        assert record.header("streamer.subscription") == b"Track Activity"
        # The first failure is the old letter's (written then: its record timestamp).
        stamp = datetime.fromtimestamp(old.timestamp_ms / 1000, UTC)
        assert record.header("streamer.first_failure") == stamp.isoformat(
            timespec="milliseconds").encode()
    assert unresolved["unresolved"] == len(tracks)  # the new ones; the old ones resolved
    assert second.dead_lettered == len(tracks)  # redrives 1 -> 2
    assert third.extra["letters"] == 0
    assert third.extra["left"]["max_redrives"] == len(tracks)


def test_a_redrive_filtered_by_reason_leaves_the_others_to_a_later_run(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> None:
    with scene(kafka_broker, new_topic(partitions=2)) as s:
        s.broker.produce(s.topic, [b"not json", b"[1]"], partition=0)
        tracks, _ = _first_run(s, poison=2)
        fixed = _config(s, broken=False)
        dry = _redrive(s, fixed, RedriveFilters(reasons=("validation",)), dry_run=True)
        assert s.state.activities == []  # a dry run sends nothing
        assert len(_letters(s)) == len(tracks) + 2  # ...and writes nothing
        by_reason = _redrive(s, fixed, RedriveFilters(reasons=("validation",)))
        assert {a["message_id"] for a in s.state.activities} == tracks
        waiting = _unresolved(s, fixed)
        later = _redrive(s, fixed, RedriveFilters(stages=("decode",)))
        letters = _letters(s, min_count=len(tracks) + 4)
    assert dry.extra["items"] == {"/v1/track": {"Track Activity": len(tracks)}}
    assert by_reason.extra["left"] == {"filtered_out": 2}
    assert waiting["by_stage"] == {"decode": {"invalid_json": 1, "not_object": 1}}
    # The decode letters are mapped through every subscription, and fail again.
    assert later.extra["groups"] == {"(every subscription)": 2}
    assert later.dead_lettered == 2
    again = sorted(r.value or b"" for r in letters if r.header("streamer.redrives") == b"1")
    assert again == [b"[1]", b"not json"]
