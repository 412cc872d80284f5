"""``streamer redrive`` as a command: the JSON summary, a second run, a usage error."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import yaml
from confluent_kafka import Producer

from streamer.app import RedriveLease, lease_group
from streamer.config import KafkaConfig
from streamer.deadletter import Rejection, build_headers
from streamer.sandbox import SandboxServer, SandboxState
from streamer.source import ClusterView
from streamer.testing import KafkaCluster, sample_events, wait_until


def _outage(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], events: int = 60
) -> tuple[str, str, list[dict[str, Any]]]:
    """A topic, its dead-letter topic and the track events an Ortto outage left in it."""
    topic = new_topic(partitions=1)
    dead = f"{topic}.dlq"
    kafka_broker.create_topic(dead, 1)
    return topic, dead, _outage_letters(kafka_broker, topic, dead, events)


def _outage_letters(
    kafka_broker: KafkaCluster, topic: str, dead: str, events: int
) -> list[dict[str, Any]]:
    tracks = [e for e in sample_events(events, seed=81, page_share=0) if e["type"] == "track"]
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap_servers})
    for offset, event in enumerate(tracks):
        rejection = Rejection("deliver", "retries_exhausted", "HTTP 503", 503,
                              action="trackActivity", subscription="Track Activity", attempts=9)
        headers = build_headers(rejection, topic=topic, partition=0, offset=offset,
                                timestamp_ms=None, source_headers=[("trace", b"t")])
        producer.produce(dead, orjson.dumps(event), key=b"k", headers=headers)
    assert producer.flush(30) == 0
    return tracks


def _redrive_command(tmp_path: Path, kafka_broker: KafkaCluster, topic: str, dead: str,
                     sandbox_url: str) -> list[str]:
    """``streamer redrive --json`` with a configuration of these topics and this sandbox."""
    path = tmp_path / "streamer.yaml"
    path.write_text(yaml.safe_dump({
        "kafka": {"bootstrap_servers": kafka_broker.bootstrap_servers, "topics": [topic],
                  "dead_letter_topic": dead, "commit_interval_ms": 100},
        "ortto": {"api_key": "pau-cli-key", "endpoint": sandbox_url},
        "batching": {"linger_ms": 20}, "metrics": {"port": None}}))
    return [sys.executable, "-m", "streamer", "redrive", "--config", str(path), "--json"]


def _kafka(kafka_broker: KafkaCluster, topic: str, dead: str) -> KafkaConfig:
    return KafkaConfig(bootstrap_servers=kafka_broker.bootstrap_servers, topics=[topic],
                       dead_letter_topic=dead)


def test_redrive_sends_letters_once_and_names_unknown_subscriptions(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic, dead, tracks = _outage(kafka_broker, new_topic)
    with SandboxServer(SandboxState(ban=False)).run_in_thread() as sandbox:
        command = _redrive_command(tmp_path, kafka_broker, topic, dead, sandbox.url)
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
    kafka = _kafka(kafka_broker, topic, dead)
    with SandboxServer(SandboxState(ban=False)).run_in_thread() as sandbox:
        command = _redrive_command(tmp_path, kafka_broker, topic, dead, sandbox.url)
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


def test_a_redrive_that_loses_its_lease_stops_and_the_next_sends_the_rest(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    # A redrive paused (SIGSTOP) for longer than its lease's session loses the lease: another
    # redrive could start meanwhile. Resumed, it must stop rather than go on beside it.
    topic, dead, tracks = _outage(kafka_broker, new_topic, events=400)
    kafka = _kafka(kafka_broker, topic, dead)
    with SandboxServer(SandboxState(ban=False)).run_in_thread() as sandbox:
        command = _redrive_command(tmp_path, kafka_broker, topic, dead, sandbox.url)
        # Slowed by its own rate (letters read per second), so that it is still running.
        paced = subprocess.Popen([*command, "--rate", "20"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        try:
            wait_until(lambda: len(sandbox.state.activities) >= 5, "the first letters sent")
            paced.send_signal(signal.SIGSTOP)
            with ClusterView(kafka) as view:
                wait_until(lambda: view.members(lease_group(dead)) == [],
                           "the paused redrive's session expired")
            paced.send_signal(signal.SIGCONT)
            out, err = paced.communicate(timeout=120)
        finally:
            paced.kill()
            paced.wait()
        sent_by_first = len(sandbox.state.activities)
        rest = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        delivered = [a["message_id"] for a in sandbox.state.activities]
    assert paced.returncode == 1, err
    assert "the redrive lease was lost" in err and "no heartbeat" in err
    summary = orjson.loads(out)
    assert summary["status"] == "failed" and "run the redrive again" in summary["error"]
    assert sent_by_first < len(tracks)  # it stopped instead of sending everything
    assert summary["resolved"] == sent_by_first  # what it sent is recorded as resolved
    assert rest.returncode == 0, rest.stderr
    assert orjson.loads(rest.stdout)["delivered"] == len(tracks) - sent_by_first
    assert sorted(delivered) == sorted(e["messageId"] for e in tracks)  # each once
