"""``streamer redrive`` as a command: the JSON summary, a second run, a usage error."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import yaml
from confluent_kafka import Producer

from streamer.deadletter import Rejection, build_headers
from streamer.sandbox import SandboxServer, SandboxState
from streamer.testing import KafkaCluster, sample_events


def test_redrive_sends_letters_once_and_names_unknown_subscriptions(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = new_topic(partitions=1)
    dead = f"{topic}.dlq"
    kafka_broker.create_topic(dead, 1)
    tracks = [e for e in sample_events(60, seed=81, page_share=0) if e["type"] == "track"]
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap_servers})
    for offset, event in enumerate(tracks):  # what an Ortto outage left behind
        rejection = Rejection("deliver", "retries_exhausted", "HTTP 503", 503,
                              action="trackActivity", subscription="Track Activity", attempts=9)
        headers = build_headers(rejection, topic=topic, partition=0, offset=offset,
                                timestamp_ms=None, source_headers=[("trace", b"t")])
        producer.produce(dead, orjson.dumps(event), key=b"k", headers=headers)
    assert producer.flush(30) == 0
    with SandboxServer(SandboxState(ban=False)).run_in_thread() as sandbox:
        path = tmp_path / "streamer.yaml"
        path.write_text(yaml.safe_dump({
            "kafka": {"bootstrap_servers": kafka_broker.bootstrap_servers, "topics": [topic],
                      "dead_letter_topic": dead, "commit_interval_ms": 100},
            "ortto": {"api_key": "pau-cli-key", "endpoint": sandbox.url},
            "batching": {"linger_ms": 20}, "metrics": {"port": None}}))
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
