"""``streamer redrive`` as a command: the JSON summary, a second run, a usage error."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import yaml
from confluent_kafka import Producer

from streamer.app import RedriveLease
from streamer.config import KafkaConfig
from streamer.deadletter import Rejection, build_headers
from streamer.sandbox import SandboxServer, SandboxState
from streamer.source import ClusterView
from streamer.testing import KafkaCluster, sample_events


def _outage(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> tuple[str, str, list[dict[str, Any]]]:
    """A topic, its dead-letter topic and the track events an Ortto outage left in it."""
    topic = new_topic(partitions=1)
    dead = f"{topic}.dlq"
    kafka_broker.create_topic(dead, 1)
    return topic, dead, _outage_letters(kafka_broker, topic, dead)


def _outage_letters(kafka_broker: KafkaCluster, topic: str, dead: str) -> list[dict[str, Any]]:
    tracks = [e for e in sample_events(60, seed=81, page_share=0) if e["type"] == "track"]
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap_servers})
    for offset, event in enumerate(tracks):
        rejection = Rejection("deliver", "retries_exhausted", "HTTP 503", 503,
                              action="trackActivity", subscription="Track Activity", attempts=9)
        headers = build_headers(rejection, topic=topic, partition=0, offset=offset,
                                timestamp_ms=None, source_headers=[("trace", b"t")])
        producer.produce(dead, orjson.dumps(event), key=b"k", headers=headers)
    assert producer.flush(30) == 0
    return tracks


def _write_config(path: Path, kafka_broker: KafkaCluster, topic: str, dead: str,
                  sandbox_url: str) -> None:
    path.write_text(yaml.safe_dump({
        "kafka": {"bootstrap_servers": kafka_broker.bootstrap_servers, "topics": [topic],
                  "dead_letter_topic": dead, "commit_interval_ms": 100},
        "ortto": {"api_key": "pau-cli-key", "endpoint": sandbox_url},
        "batching": {"linger_ms": 20}, "metrics": {"port": None}}))


def test_redrive_sends_letters_once_and_names_unknown_subscriptions(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic, dead, tracks = _outage(kafka_broker, new_topic)
    with SandboxServer(SandboxState(ban=False)).run_in_thread() as sandbox:
        path = tmp_path / "streamer.yaml"
        _write_config(path, kafka_broker, topic, dead, sandbox.url)
        command = [sys.executable, "-m", "streamer", "redrive", "--config", str(path), "--json"]
        first = subprocess.run([*command, "--reason", "retries_exhausted"],
                               capture_output=True, text=True, timeout=120, check=False)
        second = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                check=False)
        unknown = subprocess.run([*command, "--subscription", "Nope"],
                                 capture_output=True, text=True, timeout=60, check=False)
        delivered = [a["message_id"] for a in sandbox.state.activities]
    assert first.returncode == 0, first.stderr
    summary = orjson.loads(first.stdout)
    assert summary["status"] == "done"
    assert summary["delivered"] == len(tracks) and summary["resolved"] == len(tracks)
    assert sorted(delivered) == sorted(e["messageId"] for e in tracks)
    assert second.returncode == 0, second.stderr
    assert orjson.loads(second.stdout)["left"] == {"resolved": len(tracks)}
    assert unknown.returncode == 2
    assert "unknown subscription 'Nope'" in unknown.stderr


def test_a_redrive_is_refused_while_another_of_the_same_topic_runs(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic, dead, tracks = _outage(kafka_broker, new_topic)
    kafka = KafkaConfig(bootstrap_servers=kafka_broker.bootstrap_servers, topics=[topic],
                        dead_letter_topic=dead)
    with SandboxServer(SandboxState(ban=False)).run_in_thread() as sandbox:
        path = tmp_path / "streamer.yaml"
        _write_config(path, kafka_broker, topic, dead, sandbox.url)
        command = [sys.executable, "-m", "streamer", "redrive", "--config", str(path), "--json"]
        with ClusterView(kafka) as view, RedriveLease(kafka) as running:
            running.acquire(view)  # another redrive of this topic, still running
            refused = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                     check=False)
            dry = subprocess.run([*command, "--dry-run"], capture_output=True, text=True,
                                 timeout=120, check=False)
            sent_meanwhile = len(sandbox.state.activities)
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        delivered = [a["message_id"] for a in sandbox.state.activities]
    assert refused.returncode == 2, refused.stderr
    assert f"another redrive of {dead!r} is running" in refused.stderr
    assert sent_meanwhile == 0  # refused before anything was read or sent
    assert dry.returncode == 0, dry.stderr  # a dry run sends nothing and takes no lease
    assert done.returncode == 0, done.stderr  # released: the next one runs
    assert orjson.loads(done.stdout)["delivered"] == len(tracks)
    assert sorted(delivered) == sorted(e["messageId"] for e in tracks)
