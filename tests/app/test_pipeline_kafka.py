"""The whole path against a real broker and the sandbox over real HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pytest

from streamer import DeadLetterError
from streamer.app import Pipeline, build_pipeline
from streamer.config import parse_config
from streamer.sandbox import SandboxServer, SandboxState
from streamer.testing import KafkaBroker
from streamer.testing._fakes import poison_values, sample_events

pytestmark = pytest.mark.kafka


def _config(broker: KafkaBroker, topic: str, sandbox: SandboxServer, group: str,
            **overrides: Any) -> Any:
    raw: dict[str, Any] = {
        "kafka": {"bootstrap_servers": broker.bootstrap_servers, "topics": [topic],
                  "group_id": group, "dead_letter_topic": f"{topic}.dlq", "start_from": "earliest",
                  "commit_interval_ms": 100, "session_timeout_ms": 6000},
        "ortto": {"api_key": "pau-test-key", "endpoint": sandbox.url},
        "batching": {"max_items": 100, "linger_ms": 50},
        "delivery": {"backoff_initial_s": 0.02, "backoff_max_s": 0.2,
                     "shutdown_grace_s": 2.0},
        "metrics": {"port": None},
    }
    for section, values in overrides.items():
        raw[section] = values if isinstance(values, list) else {**raw.get(section, {}), **values}
    return parse_config(raw, environ={})


async def _run_until(
    pipeline: Pipeline, done: Callable[[], bool | Awaitable[bool]], timeout: float = 60
) -> bool:
    task = asyncio.create_task(pipeline.run())
    deadline = time.monotonic() + timeout
    reached = False
    while time.monotonic() < deadline and not task.done():
        answer = done()
        if answer if isinstance(answer, bool) else await answer:
            reached = True
            break
        await asyncio.sleep(0.05)
    pipeline.stop()
    await task
    return reached


def _produce_events(broker: KafkaBroker, topic: str, events: list[dict[str, Any]]) -> None:
    broker.produce(topic, [orjson.dumps(e) for e in events])


def _topic_with(
    broker: KafkaBroker, new_topic: Callable[..., str], partitions: int,
    events: list[dict[str, Any]],
) -> tuple[str, dict[int, int]]:
    """A fresh topic (and its dead-letter topic) holding ``events``; its end offsets."""
    topic = new_topic(partitions=partitions)
    broker.create_topic(f"{topic}.dlq", 1)
    _produce_events(broker, topic, events)
    return topic, broker.end_offsets(topic)


def _committed_all(pipeline: Pipeline, topic: str, ends: dict[int, int]) -> Callable[[], bool]:
    """What this process committed (enough when it is the group's only life)."""
    return lambda: all(pipeline.committed.get((topic, p), 0) >= e for p, e in ends.items())


def _group_committed_all(
    broker: KafkaBroker, group: str, topic: str, ends: dict[int, int]
) -> Callable[[], Awaitable[bool]]:
    """What the group has committed, whichever life committed it (asked of the broker)."""

    async def check() -> bool:
        committed = await asyncio.to_thread(broker.committed_offsets, group, topic)
        return committed == ends

    return check


def test_every_event_is_delivered_filtered_or_dead_lettered(
    kafka_broker: KafkaBroker, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=3)
    kafka_broker.create_topic(f"{topic}.dlq", 1)
    events = list(sample_events(3000, seed=3))
    _produce_events(kafka_broker, topic, events)
    poison = poison_values()
    kafka_broker.produce(topic, list(poison.values()))
    ends = kafka_broker.end_offsets(topic)

    async def scenario() -> tuple[Pipeline, SandboxState]:
        sandbox = SandboxServer(SandboxState(ban=False))
        await sandbox.start()
        try:
            pipeline = await build_pipeline(_config(kafka_broker, topic, sandbox, "g-all"))
            assert await _run_until(pipeline, _committed_all(pipeline, topic, ends))
            return pipeline, sandbox.state
        finally:
            await sandbox.stop()

    pipeline, state = asyncio.run(scenario())
    tracks = {e["messageId"] for e in events if e["type"] == "track"}
    identifies = [e for e in events if e["type"] == "identify"]
    pages = [e for e in events if e["type"] == "page"]
    assert {a["message_id"] for a in state.activities} == tracks
    assert len(state.contacts) == len(identifies)
    stats = pipeline.stats()
    assert stats.filtered == len(pages)
    assert stats.delivered == len(tracks) + len(identifies)
    assert stats.consumed == len(events) + len(poison)
    dead = kafka_broker.consume_all(f"{topic}.dlq", min_count=len(poison))
    assert sorted(m.value or b"" for m in dead) == sorted(poison.values())
    reasons = {(m.header("streamer.stage"), m.header("streamer.reason")) for m in dead}
    assert (b"decode", b"invalid_json") in reasons
    assert (b"decode", b"invalid_utf8") in reasons
    assert (b"decode", b"too_deep") in reasons
    assert (b"decode", b"not_object") in reasons
    assert (b"validate", b"validation") in reasons
    assert kafka_broker.committed_offsets("g-all", topic) == ends


def test_committed_offsets_never_pass_a_request_held_open(
    kafka_broker: KafkaBroker, new_topic: Callable[..., str]
) -> None:
    # One event per user: no item waits behind its contact's (per-contact order), so the first
    # request is exactly offsets 0..99 and everything else flows while it is held.
    events = list({e["userId"]: e for e in sample_events(2500, seed=5, page_share=0)
                   if e["type"] == "track" and "userId" in e}.values())[:1200]
    events.sort(key=lambda e: e["messageId"])
    topic, ends = _topic_with(kafka_broker, new_topic, 1, events)

    async def scenario() -> tuple[dict[int, int], dict[int, int], int]:
        sandbox = SandboxServer(SandboxState(ban=False))
        await sandbox.start()
        sandbox.state.hold(1, endpoints=["track"])  # the first request: offsets 0..99
        try:
            pipeline = await build_pipeline(_config(kafka_broker, topic, sandbox, "g-hold"))
            task = asyncio.create_task(pipeline.run())
            # Everything but the held request gets delivered...
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(sandbox.state.activities) < len(events) - 100:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # several commit intervals
            while_held = await asyncio.to_thread(
                kafka_broker.committed_offsets, "g-hold", topic)
            delivered_while_held = len(sandbox.state.activities)
            # The watermark names the held message and its age.
            held_view = pipeline.watermarks()[(topic, 0)]
            assert held_view is not None and held_view[0] == 0 and held_view[1] >= 0.5
            sandbox.state.release()
            while time.monotonic() < deadline and pipeline.committed.get((topic, 0), 0) < ends[0]:
                await asyncio.sleep(0.05)
            pipeline.stop()
            await task
            after = await asyncio.to_thread(kafka_broker.committed_offsets, "g-hold", topic)
            return while_held, after, delivered_while_held
        finally:
            await sandbox.stop()

    while_held, after, delivered_while_held = asyncio.run(scenario())
    assert delivered_while_held == len(events) - 100
    assert while_held.get(0, 0) == 0  # nothing past offset 0, the held batch's first message
    assert after == ends


def test_a_restarted_process_resumes_from_committed_offsets(
    kafka_broker: KafkaBroker, new_topic: Callable[..., str]
) -> None:
    events = list(sample_events(2000, seed=9, page_share=0))
    topic, ends = _topic_with(kafka_broker, new_topic, 2, events)

    async def scenario() -> tuple[SandboxState, dict[int, int], dict[int, int]]:
        state = SandboxState(ban=False)
        sandbox = SandboxServer(state)
        await sandbox.start()
        try:
            # First life: the third track request hangs; the process stops with a short grace.
            state.set_faults({"rules": [{"kind": "hang", "endpoints": ["track"], "count": 1,
                                         "start": 0.0, "rate": 1.0}]})
            config = _config(kafka_broker, topic, sandbox, "g-restart",
                             delivery={"shutdown_grace_s": 0.3},
                             ortto={"read_timeout_s": 30})
            first = await build_pipeline(config)
            await _run_until(first, lambda: len(state.activities) >= 500, timeout=30)
            mid = await asyncio.to_thread(kafka_broker.committed_offsets, "g-restart", topic)
            state.clear_faults()
            # Second life: picks up from the commits and finishes.
            second = await build_pipeline(_config(kafka_broker, topic, sandbox, "g-restart"))
            assert await _run_until(
                second, _group_committed_all(kafka_broker, "g-restart", topic, ends)
            )
            end = await asyncio.to_thread(kafka_broker.committed_offsets, "g-restart", topic)
            return state, mid, end
        finally:
            await sandbox.stop()

    state, mid, end = asyncio.run(scenario())
    assert sum(mid.values()) < sum(ends.values())  # the first life stopped with work undone
    assert end == ends
    tracks = {e["messageId"] for e in events if e["type"] == "track"}
    assert {a["message_id"] for a in state.activities} == tracks
    identities = {
        ("user_id:" + e["userId"]) if "userId" in e else "anonymous_id:" + e["anonymousId"]
        for e in events if e["type"] == "identify"
    }
    assert identities <= set(state.profiles)


def test_back_pressure_pauses_consumption_while_ortto_holds_everything(
    kafka_broker: KafkaBroker, new_topic: Callable[..., str]
) -> None:
    events = list(sample_events(6000, seed=8, page_share=0))
    topic, ends = _topic_with(kafka_broker, new_topic, 2, events)
    high = 300

    async def scenario() -> tuple[int, bool, int]:
        sandbox = SandboxServer(SandboxState(ban=False))
        await sandbox.start()
        sandbox.state.hold(10_000, endpoints=["track", "identify"])  # all wait for release
        try:
            pipeline = await build_pipeline(_config(
                kafka_broker, topic, sandbox, "g-pressure",
                kafka={"poll_batch": 100}, delivery={"max_pending_items": high},
            ), consumer_overrides={"statistics.interval.ms": 200})
            task = asyncio.create_task(pipeline.run())
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not pipeline.source.paused:
                await asyncio.sleep(0.02)
            await asyncio.sleep(1.0)  # paused: consumption must not move any more
            consumed_while_held = pipeline.stats().consumed
            paused = pipeline.source.paused
            # Nothing is done: the lag (commit point to partition end) is the whole topic, once
            # the client's statistics (every 200 ms, however busy the machine) named each end.
            registry = pipeline.metrics.registry

            def lag() -> float:
                return sum(registry.get_sample_value(
                    "streamer_consumer_lag_messages", {"topic": topic, "partition": str(p)}) or 0
                    for p in ends)

            lag_deadline = time.monotonic() + 30
            while time.monotonic() < lag_deadline and lag() != len(events):
                await asyncio.sleep(0.05)
            assert lag() == len(events)
            sandbox.state.release()
            while time.monotonic() < deadline + 60 and not all(
                pipeline.committed.get((topic, p), 0) >= e for p, e in ends.items()
            ):
                await asyncio.sleep(0.05)
            pipeline.stop()
            await task
            return consumed_while_held, paused, pipeline.stats().delivered
        finally:
            await sandbox.stop()

    consumed_while_held, paused, delivered = asyncio.run(scenario())
    assert paused
    # Bounded: the high-water mark plus at most one poll batch per partition in flight.
    assert high < consumed_while_held <= high + 2 * 100 + 100
    assert delivered == len(events)


def test_an_unwritable_dead_letter_topic_stops_processing_and_commits_nothing_past_it(
    kafka_broker: KafkaBroker, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=1)
    events = list(sample_events(300, seed=12, page_share=0))
    kafka_broker.produce(topic, [b"not json"])  # offset 0: must be dead-lettered
    _produce_events(kafka_broker, topic, events)

    async def scenario() -> tuple[BaseException | None, int]:
        sandbox = SandboxServer(SandboxState(ban=False))
        await sandbox.start()
        try:
            config = _config(
                kafka_broker, topic, sandbox, "g-dlq-down",
                # An illegal topic name: the broker refuses every record.
                kafka={"dead_letter_topic": "no such topic!"},
            )
            pipeline = await build_pipeline(config)
            failure: BaseException | None = None
            try:
                await asyncio.wait_for(pipeline.run(), 60)
            except Exception as exc:
                failure = exc
            return failure, len(sandbox.state.activities)
        finally:
            await sandbox.stop()

    failure, delivered = asyncio.run(scenario())
    assert isinstance(failure, DeadLetterError), failure
    assert "no such topic!" in str(failure)
    # Later messages may have been delivered, but the commit never passed offset 0.
    assert kafka_broker.committed_offsets("g-dlq-down", topic).get(0, 0) == 0
    print(f"\ndelivered before stopping: {delivered}")


def test_an_audience_is_found_or_created_once_and_joined_by_the_items(
    kafka_broker: KafkaBroker, new_topic: Callable[..., str]
) -> None:
    identifies = [e for e in sample_events(400, seed=31, page_share=0)
                  if e["type"] == "identify" and "userId" in e]
    topic, ends = _topic_with(kafka_broker, new_topic, 1, identifies)
    subscriptions = [{
        "name": "Newsletter joiners", "subscribe": 'type = "identify"',
        "partnerAction": "upsertContactProfile", "audience": "Newsletter",
        "mapping": {"user_id": {"@path": "$.userId"}, "traits": {"@path": "$.traits"},
                    "message_id": {"@path": "$.messageId"},
                    "timestamp": {"@path": "$.timestamp"}, "audience_update_mode": "add"},
    }]

    async def scenario() -> SandboxState:
        sandbox = SandboxServer(SandboxState(ban=False))
        await sandbox.start()
        try:
            for life in range(2):  # the second life finds the audience the first created
                config = _config(kafka_broker, topic, sandbox, f"g-audience-{life}",
                                 subscriptions=subscriptions)
                pipeline = await build_pipeline(config)
                assert await _run_until(pipeline, _committed_all(pipeline, topic, ends))
            return sandbox.state
        finally:
            await sandbox.stop()

    state = asyncio.run(scenario())
    [audience] = state.audiences
    assert audience["name"] == "Newsletter"
    assert state.stats()["endpoints"]["audiences"]["requests"] == 2  # once per life, no more
    assert {c["audience"]["id"] for c in state.contacts} == {audience["id"]}
    assert set(audience["members"]) == {"user_id:" + e["userId"] for e in identifies}


def test_a_hot_contact_pauses_its_partition_alone(
    kafka_broker: KafkaBroker, new_topic: Callable[..., str]
) -> None:
    # Partition 0: one bot (a shared anonymousId) sending 150 upserts, which go out one at a
    # time; partition 1: 400 users with one upsert each. With max_pending_items 100 and the
    # default share (0.25), partition 0 pauses alone past 25 held items while partition 1 flows.
    topic = new_topic(partitions=2)
    kafka_broker.create_topic(f"{topic}.dlq", 1)
    bot = [orjson.dumps({"type": "identify", "anonymousId": "shared-bot", "messageId": f"b{i}",
                         "traits": {"seq": i}}) for i in range(1, 151)]
    users = [orjson.dumps({"type": "identify", "userId": f"u{i}", "messageId": f"u{i}",
                           "traits": {"seq": 1}}) for i in range(400)]
    kafka_broker.produce(topic, bot, partition=0)
    kafka_broker.produce(topic, users, partition=1)
    ends = kafka_broker.end_offsets(topic)

    async def scenario() -> tuple[Pipeline, SandboxState, dict[str, Any]]:
        # Every answer 10 ms late: the bot's 150 upserts take 150 round trips.
        sandbox = SandboxServer(SandboxState(ban=False, faults=[
            {"kind": "delay", "seconds": 0.01, "endpoints": ["identify"]}]))
        await sandbox.start()
        seen: dict[str, Any] = {"paused_alone": False, "users_done_first": False,
                                "max_held": 0, "gauge_said_paused": False}
        try:
            pipeline = await build_pipeline(_config(
                kafka_broker, topic, sandbox, "g-hot", kafka={"poll_batch": 50},
                batching={"max_items": 100, "linger_ms": 10},
                delivery={"max_pending_items": 100},
            ))
            registry = pipeline.metrics.registry

            def observe() -> bool:
                assert pipeline.order is not None
                seen["max_held"] = max(seen["max_held"], pipeline.order.held)
                if (topic, 0) in pipeline.source.paused_alone:
                    seen["paused_alone"] = True
                # The gauge follows once per turn of the loop: a pause can be seen before it.
                if registry.get_sample_value("streamer_ordering_paused_partitions") == 1:
                    seen["gauge_said_paused"] = True
                if pipeline.committed.get((topic, 1), 0) >= ends[1] and (
                    pipeline.committed.get((topic, 0), 0) < ends[0]
                ):
                    seen["users_done_first"] = True
                return all(pipeline.committed.get((topic, p), 0) >= e for p, e in ends.items())

            assert await _run_until(pipeline, observe, timeout=120)
            return pipeline, sandbox.state, seen
        finally:
            await sandbox.stop()

    pipeline, state, seen = asyncio.run(scenario())
    assert seen["paused_alone"], "the hot contact's partition never paused on its own"
    assert seen["gauge_said_paused"], "streamer_ordering_paused_partitions never said 1"
    assert seen["users_done_first"], "the other partition waited for the hot contact"
    assert not pipeline.source.paused_alone and pipeline.order is not None
    assert pipeline.order.held == 0
    profiles = state.profiles
    assert profiles["anonymous_id:shared-bot"]["traits"]["seq"] == 150
    assert sum(1 for k in profiles if k.startswith("user_id:")) == 400
    # Held items count towards the pending limit: the process as a whole stays bounded.
    assert seen["max_held"] <= 100 + 50


def test_under_a_rate_budget_requests_are_full_whatever_the_linger(
    kafka_broker: KafkaBroker, new_topic: Callable[..., str]
) -> None:
    # 1 request a second for the whole process, a 20 ms linger, and consumption paused past
    # 300 items: a window closed by its linger would go out part full and wait for a token
    # anyway. Without a token at hand, windows stay open and fill.
    events = [e for e in sample_events(4000, seed=21, page_share=0) if e["type"] == "track"]
    topic, ends = _topic_with(kafka_broker, new_topic, 2, events)

    async def scenario() -> list[int]:
        sandbox = SandboxServer(SandboxState(ban=False))
        await sandbox.start()
        try:
            pipeline = await build_pipeline(_config(
                kafka_broker, topic, sandbox, "g-budget", kafka={"poll_batch": 50},
                batching={"max_items": 200, "linger_ms": 20},
                delivery={"rate_per_s": 1, "ordering": "none", "max_pending_items": 300},
            ))
            assert await _run_until(pipeline, _committed_all(pipeline, topic, ends), timeout=120)
            return [r["items"] for r in sandbox.state.requests if r["endpoint"] == "track"]
        finally:
            await sandbox.stop()

    sizes = asyncio.run(scenario())
    assert sum(sizes) == len(events)
    # Every request but the last (the end of the backlog) is full.
    assert all(n == 200 for n in sizes[:-1]), sizes
