"""``streamer status`` and ``streamer offsets reset`` against a group with known offsets."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
import yaml
from confluent_kafka import Producer

from streamer import UsageError
from streamer.app import ResetTarget, execute_reset, group_status, plan_reset
from streamer.deadletter import (
    DeadLetterIdentity,
    Rejection,
    build_headers,
    resolution_record,
)
from streamer.source import ClusterView
from streamer.testing import KafkaCluster

from ._scene import BASE_MS, Scene, events, live_member, scene


def _dead_letters(s: Scene) -> None:
    """Four letters (two of one message: a duplicate) and a resolution of one of them."""
    producer = Producer({"bootstrap.servers": s.broker.bootstrap_servers})
    letters = [
        (Rejection("decode", "invalid_json", "not valid JSON", 400), 3),
        (Rejection("validate", "validation", "bad ip", 400, subscription="Track Activity"), 4),
        (Rejection("deliver", "retries_exhausted", "503", 503, subscription="Track Activity"), 5),
        (Rejection("deliver", "retries_exhausted", "503", 503, subscription="Track Activity"), 5),
    ]
    for rejection, offset in letters:
        headers = build_headers(rejection, topic=s.topic, partition=0, offset=offset,
                                timestamp_ms=None, source_headers=None)
        producer.produce(s.dead_letter_topic, b"v", headers=headers)
    key, value, resolution = resolution_record(
        DeadLetterIdentity(s.topic, 0, 5, "Track Activity", 0), "redriven")
    producer.produce(s.dead_letter_topic, value, key=key, headers=resolution)
    assert producer.flush(30) == 0


def test_status_reports_offsets_lag_members_and_unresolved_dead_letters(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=2)
    with scene(kafka_broker, topic) as s:
        s.produce(events(100, seed=61), partitions=2)  # event i: partition i % 2
        _dead_letters(s)
        kafka = s.config().kafka
        assert kafka is not None
        now = BASE_MS + 500_000
        with ClusterView(kafka) as view:
            view.set_offsets(s.group, topic, {0: 10})  # partition 1 never committed
            status = group_status(view, kafka, now_ms=now)
            capped = group_status(view, kafka, now_ms=now, cap=2)["dead_letters"]
            with live_member(kafka):
                held = group_status(view, kafka, now_ms=now)
    by_partition = {p["partition"]: p for p in status["partitions"]}
    assert by_partition[0]["committed"] == 10 and by_partition[0]["end"] == 50
    assert by_partition[0]["lag"] == 40
    # The next unread message of partition 0 is event 20 (offset 10): 480 s behind `now`.
    assert by_partition[0]["lag_seconds"] == 480.0
    assert by_partition[1]["committed"] is None and by_partition[1]["lag"] == 50
    assert by_partition[1]["lag_seconds"] == 499.0  # event 1, at offset 0
    assert status["lag"] == 90 and status["members"] == []
    dead = status["dead_letters"]
    assert dead["unresolved"] == 2 and dead["resolved"] == 2 and not dead["capped"]
    assert dead["by_stage"] == {"decode": {"invalid_json": 1}, "validate": {"validation": 1}}
    assert capped["capped"] and capped["records_read"] == 2
    [member] = held["members"]
    assert member["client_id"] == "live-member"
    assert sorted(a["partition"] for a in member["assignment"]) == [0, 1]
    assert {p["member"] for p in held["partitions"]} == {member["member_id"]}


def test_offsets_reset_plans_then_executes_and_refuses_a_live_group(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=2)
    with scene(kafka_broker, topic) as s:
        s.produce(events(100, seed=62), partitions=2)
        kafka = s.config().kafka
        assert kafka is not None
        with ClusterView(kafka) as view:
            view.set_offsets(s.group, topic, {0: 10, 1: 20})
            latest = plan_reset(view, kafka, ResetTarget(latest=True))
            assert kafka_broker.committed_offsets(s.group, topic) == {0: 10, 1: 20}  # a plan
            assert [(p["partition"], p["from"], p["to"]) for p in latest] == [
                (0, 10, 50), (1, 20, 50)]
            # Event i has timestamp BASE_MS + 1000 i; event 30 is offset 15 of partition 0.
            by_time = plan_reset(view, kafka, ResetTarget(timestamp_ms=BASE_MS + 30_000))
            assert [p["to"] for p in by_time] == [15, 15]
            execute_reset(view, kafka, by_time)
            assert kafka_broker.committed_offsets(s.group, topic) == {0: 15, 1: 15}
            one = plan_reset(view, kafka, ResetTarget(offsets={1: 44}), [topic])
            execute_reset(view, kafka, one)
            assert kafka_broker.committed_offsets(s.group, topic) == {0: 15, 1: 44}
            execute_reset(view, kafka, plan_reset(view, kafka, ResetTarget(earliest=True)))
            assert kafka_broker.committed_offsets(s.group, topic) == {0: 0, 1: 0}
            with pytest.raises(UsageError, match=r"\[1\]: offset 51 is outside the partition"):
                plan_reset(view, kafka, ResetTarget(offsets={1: 51}))
            with live_member(kafka), pytest.raises(UsageError, match="live member"):
                execute_reset(view, kafka, latest)
        assert kafka_broker.committed_offsets(s.group, topic) == {0: 0, 1: 0}


def test_the_commands_print_json_and_a_plan_changes_nothing(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = new_topic(partitions=1)
    kafka_broker.create_topic(f"{topic}.dlq", 1)
    kafka_broker.produce(topic, [b"{}"] * 7)
    group = f"cli-{uuid.uuid4().hex[:6]}"
    path = tmp_path / "streamer.yaml"
    path.write_text(yaml.safe_dump({
        "kafka": {"bootstrap_servers": kafka_broker.bootstrap_servers, "topics": [topic],
                  "group_id": group, "dead_letter_topic": f"{topic}.dlq"},
        "ortto": {"api_key": "pau-x"}}))
    command = [sys.executable, "-m", "streamer"]
    plan = subprocess.run([*command, "offsets", "reset", "--config", str(path), "--to-latest"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert plan.returncode == 0, plan.stderr
    assert f"{topic}[0]: - -> 7" in plan.stdout
    assert kafka_broker.committed_offsets(group, topic) == {}
    done = subprocess.run([*command, "offsets", "reset", "--config", str(path), "--to-offset",
                           "0=3", "--execute"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert kafka_broker.committed_offsets(group, topic) == {0: 3}
    status = subprocess.run([*command, "status", "--config", str(path), "--json"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert status.returncode == 0, status.stderr
    document = orjson.loads(status.stdout)
    assert document["partitions"][0]["committed"] == 3
    assert document["partitions"][0]["lag"] == 4
    refused = subprocess.run([*command, "offsets", "reset", "--config", str(path),
                              "--to-offset", "0=9"], capture_output=True, text=True, timeout=60,
                             check=False)
    assert refused.returncode == 2
    assert "offset 9 is outside the partition" in refused.stderr
