"""``streamer replay`` against the real broker and the sandbox over real HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import orjson
import pytest
from confluent_kafka import Producer

from streamer import UsageError
from streamer.app import RangeRequest, Replay, ReplayOptions, check_group, choose_subscriptions
from streamer.source import ClusterView
from streamer.testing import KafkaCluster, poison_values

from ._scene import BASE_MS, events, live_member, scene


def test_an_offset_range_is_delivered_exactly_and_the_live_group_does_not_move(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=2)
    with scene(kafka_broker, topic) as s:
        s.produce(events(400, seed=41), partitions=2)
        config = s.config()
        assert config.kafka is not None
        with ClusterView(config.kafka) as view:  # the live group stands somewhere
            view.set_offsets(s.group, topic, {0: 17, 1: 150})
        summary = s.replay(RangeRequest(topic, from_offsets={0: 50, 1: 120},
                                        to_offsets={0: 150}))
        wanted = {(0, o) for o in range(50, 150)} | {(1, o) for o in range(120, 200)}
        delivered = s.delivered_ids()
        assert set(delivered) == s.expected_ids(wanted)
        assert len(delivered) == len(set(delivered))  # nothing twice
        assert kafka_broker.committed_offsets(s.group, topic) == {0: 17, 1: 150}
    assert summary.status == "done"
    assert summary.consumed == 180
    assert summary.delivered == len(s.expected_ids(wanted))
    assert summary.filtered == sum(1 for p in wanted if s.at[p]["type"] == "page")
    assert [(p["partition"], p["from"], p["to"], p["next"]) for p in summary.partitions] == [
        (0, 50, 150, 150), (1, 120, 200, 200)]


def test_a_time_range_is_resolved_by_the_broker(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=3)
    with scene(kafka_broker, topic) as s:
        s.produce(events(300, seed=42), partitions=3)
        # Event i has timestamp BASE_MS + 1000 i: [100, 250) by time.
        summary = s.replay(RangeRequest(topic, from_timestamp_ms=BASE_MS + 100_000,
                                        to_timestamp_ms=BASE_MS + 250_000))
        wanted = {p for p, e in s.at.items() if 100 <= s.events.index(e) < 250}
        assert set(s.delivered_ids()) == s.expected_ids(wanted)
    assert summary.consumed == 150
    assert summary.status == "done"


def test_subscription_limits_the_replay_to_it(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=1)
    with scene(kafka_broker, topic) as s:
        s.produce(events(200, seed=43), partitions=1)
        summary = s.replay(RangeRequest(topic, from_beginning=True),
                           ReplayOptions(subscriptions=("Track Activity",)))
        tracks = {e["messageId"] for e in s.events if e["type"] == "track"}
        assert {a["message_id"] for a in s.state.activities} == tracks
        assert s.state.contacts == []
        assert {r["endpoint"] for r in s.state.requests} == {"me", "track"}  # key check, then track
    # identify and page events matched no chosen subscription: filtered, as in run.
    assert summary.filtered == 200 - len(tracks)


def test_the_rate_cap_holds_within_ten_percent(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=2)
    with scene(kafka_broker, topic) as s:
        s.produce(events(1500, seed=44), partitions=2)
        summary = s.replay(RangeRequest(topic, from_beginning=True),
                           ReplayOptions(rate_per_s=300))
    assert summary.consumed == 1500
    print(f"\nread at {summary.rate_per_s:.1f} events/s (cap 300), "
          f"elapsed {summary.elapsed_s:.2f}s")
    assert 270 <= summary.rate_per_s <= 330


def test_a_dry_run_sends_nothing_and_writes_no_dead_letter(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=1)
    with scene(kafka_broker, topic) as s:
        s.produce(events(120, seed=45), partitions=1)
        poison = poison_values()
        kafka_broker.produce(topic, list(poison.values()))
        summary = s.replay(RangeRequest(topic, from_beginning=True), dry_run=True)
        assert s.state.requests == []
        assert s.state.activities == [] and s.state.contacts == []
        assert kafka_broker.end_offsets(s.dead_letter_topic) == {0: 0}
    document = summary.as_json()
    assert document["dry_run"] is True
    assert document["consumed"] == 120 + len(poison)
    tracks = sum(1 for e in s.events if e["type"] == "track")
    identifies = sum(1 for e in s.events if e["type"] == "identify")
    assert document["items"] == {"/v1/track": {"Track Activity": tracks},
                                 "/v1/identify": {"Upsert Contact": identifies}}
    assert document["rejected"] == {
        "decode/invalid_json": 1, "decode/invalid_utf8": 1, "decode/too_deep": 1,
        "decode/not_object": 1, "validate/validation": 2}
    assert 0 < len(document["samples"]) <= 6
    assert document["filtered"] == 120 - tracks - identifies


def test_an_interrupted_replay_resumes_from_its_group_and_finishes(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=2)
    with scene(kafka_broker, topic) as s:
        s.produce(events(600, seed=46), partitions=2)
        kafka_broker.produce(topic, [b"not json"], partition=0)
        config = s.config()
        request = RangeRequest(topic, from_beginning=True)
        options = ReplayOptions(group="replay-46")
        ranges = s.ranges(config, request, options.group)
        # Read slowly, so the first run is stopped part way.
        first = Replay(config, ranges, ReplayOptions(group="replay-46", rate_per_s=100))

        async def interrupted() -> object:
            task = asyncio.create_task(first.run())
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(s.delivered_ids()) < 100:
                await asyncio.sleep(0.05)
            first.stop()
            return await task

        summary = asyncio.run(interrupted())
        mid = kafka_broker.committed_offsets("replay-46", topic)
        second = s.replay(request, options)
        dead = kafka_broker.consume_all(s.dead_letter_topic, min_count=1)
        end = kafka_broker.committed_offsets("replay-46", topic)
        assert set(s.delivered_ids()) == s.expected_ids(set(s.at))
        assert kafka_broker.committed_offsets(s.group, topic) == {}  # the live group: nothing
    assert summary.status == "interrupted"  # type: ignore[attr-defined]
    assert 0 < sum(mid.values()) < 601
    assert second.status == "done"
    assert second.consumed < 601  # resumed, not started over
    assert [m.value for m in dead] == [b"not json"]
    assert end == {0: 301, 1: 300}


def test_ranges_and_names_are_checked_before_anything_is_sent(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=2)
    with scene(kafka_broker, topic) as s:
        s.produce(events(20, seed=47), partitions=2)
        config = s.config()
        with pytest.raises(UsageError, match=r"\[0\]: start 11 is past its end: it holds "
                                             r"offsets 0 to 10"):
            s.ranges(config, RangeRequest(topic, from_offset=11))
        with pytest.raises(UsageError, match=r"\[1\]: end 12 is past its end"):
            s.ranges(config, RangeRequest(topic, from_offset=0, to_offsets={1: 12}))
        with pytest.raises(UsageError, match="no partition 5"):
            s.ranges(config, RangeRequest(topic, partitions=(5,), from_beginning=True))
        with pytest.raises(UsageError, match="does not exist"):
            s.ranges(config, RangeRequest(topic + "-nope", from_beginning=True))
        with pytest.raises(UsageError, match="known: 'Upsert Contact', 'Track Activity'"):
            choose_subscriptions(config, ["Track"])
        assert config.kafka is not None
        with ClusterView(config.kafka) as view:
            with pytest.raises(UsageError, match="is the live group"):
                check_group(config, view, s.group)
            # A group someone consumes with is refused too (here: as its live group).
            other = config.model_copy(update={
                "kafka": config.kafka.model_copy(update={"group_id": "someone-else"})})
            assert other.kafka is not None
            with live_member(other.kafka), pytest.raises(UsageError, match="1 live member"):
                check_group(config, view, "someone-else")
        assert s.state.requests == []


def test_a_range_ending_in_transaction_markers_finishes(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=1)
    with scene(kafka_broker, topic) as s:
        batch = [e for e in events(60, seed=48) if e["type"] == "track"]
        producer = Producer({"bootstrap.servers": kafka_broker.bootstrap_servers,
                             "transactional.id": f"tx-{topic}"})
        producer.init_transactions(30)
        for part in (batch[:20], batch[20:]):  # two transactions: two commit markers
            producer.begin_transaction()
            for event in part:
                producer.produce(topic, orjson.dumps(event), partition=0)
            producer.commit_transaction(30)
        end = kafka_broker.end_offsets(topic)[0]
        summary = s.replay(RangeRequest(topic, from_beginning=True))
        delivered = {a["message_id"] for a in s.state.activities}
    assert end == len(batch) + 2  # the markers take offsets no message stands for
    assert summary.status == "done" and summary.consumed == len(batch)
    assert delivered == {e["messageId"] for e in batch}
    assert summary.partitions[0]["next"] == end


def test_a_failed_replay_says_why_and_where_to_resume(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=1)
    with scene(kafka_broker, topic) as s:
        kafka_broker.produce(topic, [b"not json"])  # offset 0: must be dead-lettered
        s.produce([e for e in events(100, seed=49) if e["type"] == "track"], partitions=1)
        # An illegal topic name: the broker refuses the dead letter, the replay must stop.
        config = s.config(kafka={"dead_letter_topic": "no such topic!"})
        summary = s.replay(RangeRequest(topic, from_beginning=True), config=config)
    assert summary.status == "failed"
    assert "no such topic!" in summary.extra["error"]
    assert summary.partitions[0]["next"] == 0  # nothing past the unwritten reject
