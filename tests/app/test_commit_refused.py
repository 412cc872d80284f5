"""A commit counts only once the broker confirms it: a broker that refuses the commits (an ACL
denying the topic) leaves nothing counted, and once it accepts again the next checkpoint carries
the same offsets, with no new message to move the watermark.

This test has a broker of its own, with an authorizer that allows everything unless an ACL says
otherwise, so that no other test sees the ACL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import orjson
import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    ResourcePatternType,
    ResourceType,
)

from streamer.app import build_pipeline
from streamer.config import parse_config
from streamer.sandbox import SandboxServer, SandboxState
from streamer.testing import KafkaBroker
from streamer.testing._fakes import sample_events

pytestmark = pytest.mark.kafka

_AUTHORIZER = {
    "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "allow.everyone.if.no.acl.found": "true",
}


@pytest.fixture(scope="module")
def acl_broker() -> Iterator[KafkaBroker]:
    with KafkaBroker(extra_properties=_AUTHORIZER) as broker:
        yield broker


def _deny_read(topic: str) -> AclBinding:
    return AclBinding(ResourceType.TOPIC, topic, ResourcePatternType.LITERAL, "User:ANONYMOUS",
                      "*", AclOperation.READ, AclPermissionType.DENY)


def _filter(topic: str) -> AclBindingFilter:
    return AclBindingFilter(ResourceType.TOPIC, topic, ResourcePatternType.LITERAL,
                            "User:ANONYMOUS", "*", AclOperation.READ, AclPermissionType.DENY)


def _commits(pipeline: object, kind: str, result: str) -> float:
    value = pipeline.metrics.registry.get_sample_value(  # type: ignore[attr-defined]
        "streamer_commits_total", {"kind": kind, "result": result})
    return value or 0.0


def _commits_refused(broker: KafkaBroker, topic: str) -> bool:
    """Whether the broker refuses a commit on ``topic`` now (the ACL is in force)."""
    probe = Consumer({"bootstrap.servers": broker.bootstrap_servers, "group.id": "acl-probe",
                      "enable.auto.commit": False})
    try:
        probe.commit(offsets=[TopicPartition(topic, 0, 0)], asynchronous=False)
    except KafkaException as exc:
        return bool(exc.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED)
    finally:
        probe.close()
    return False


async def _until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def test_a_refused_commit_counts_nothing_and_the_next_one_carries_it(
    acl_broker: KafkaBroker,
) -> None:
    broker = acl_broker
    topic, group = "refused", "g-refused"
    broker.create_topic(topic, 2)
    broker.create_topic(f"{topic}.dlq", 1)
    events = [e for e in sample_events(400, seed=11, page_share=0) if e["type"] == "track"]
    broker.produce(topic, [orjson.dumps(e) for e in events])
    ends = broker.end_offsets(topic)
    admin = broker._admin()

    async def scenario() -> tuple[dict[tuple[str, int], int], dict[int, int], float]:
        sandbox = SandboxServer(SandboxState(ban=False))
        await sandbox.start()
        sandbox.state.hold(1000, endpoints=["track"])  # nothing is done until the ACL is there
        config = parse_config({
            "kafka": {"bootstrap_servers": broker.bootstrap_servers, "topics": [topic],
                      "group_id": group, "dead_letter_topic": f"{topic}.dlq",
                      "commit_interval_ms": 100, "session_timeout_ms": 6000,
                      "start_from": "earliest"},
            "ortto": {"api_key": "pau-test-key", "endpoint": sandbox.url},
            "batching": {"max_items": 100, "linger_ms": 20},
            "delivery": {"backoff_initial_s": 0.02, "backoff_max_s": 0.2},
            "metrics": {"port": None},
        }, environ={})
        pipeline = await build_pipeline(config)
        task = asyncio.create_task(pipeline.run())
        try:
            await _until(lambda: pipeline.dispatcher.consumed == len(events), 60,
                         "every event consumed")
            await asyncio.to_thread(sandbox.state.wait_held, 1, 30.0)
            for future in admin.create_acls([_deny_read(topic)]).values():
                future.result(10)
            deadline = time.monotonic() + 30
            while not await asyncio.to_thread(_commits_refused, broker, topic):
                assert time.monotonic() < deadline, "the ACL never came into force"
                await asyncio.sleep(0.1)
            assert all(pipeline.committed.get((topic, p), 0) == 0 for p in ends)
            sandbox.state.release()
            await _until(lambda: pipeline.outcomes.delivered_items == len(events), 30,
                         "every event delivered")
            # The broker refuses the checkpoints' commits of the new watermark.
            await _until(lambda: _commits(pipeline, "async", "failed") >= 3, 30,
                         "refused commits")
            # Done, but not confirmed: nothing counts as committed past what the broker has.
            assert all(pipeline.committed.get((topic, p), 0) < e for p, e in ends.items())
            states = {p: pipeline.tracker.get(topic, p) for p in ends}
            assert all(s is not None and (s.committed or 0) < ends[p] for p, s in states.items())
            stored = await asyncio.to_thread(broker.committed_offsets, group, topic)
            assert all(stored.get(p, 0) < e for p, e in ends.items())
            consumed = pipeline.dispatcher.consumed
            for future in admin.delete_acls([_filter(topic)]).values():
                future.result(10)
            # The next checkpoint carries the same offsets: no new message moved the watermark.
            await _until(lambda: all(pipeline.committed.get((topic, p), 0) == e
                                     for p, e in ends.items()), 30, "the commit carried")
            assert pipeline.dispatcher.consumed == consumed
            gauge = pipeline.metrics.registry.get_sample_value(
                "streamer_committed_offset", {"topic": topic, "partition": "0"})
            assert gauge == ends[0]
            refused = _commits(pipeline, "async", "failed")
        finally:
            pipeline.stop()
            await task
            await sandbox.stop()
        stored = await asyncio.to_thread(broker.committed_offsets, group, topic)
        return pipeline.committed, stored, refused

    committed, stored, refused = asyncio.run(scenario())
    assert stored == ends
    assert {p: o for (_, p), o in committed.items()} == ends
    assert refused >= 3
