"""``streamer replay`` as a command: exit statuses, the JSON summary, a clean interruption."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import yaml

from streamer.sandbox import SandboxServer, SandboxState
from streamer.testing import KafkaCluster, sample_events


def _config(broker: KafkaCluster, topic: str, sandbox: SandboxServer) -> dict[str, Any]:
    return {
        "kafka": {"bootstrap_servers": broker.bootstrap_servers, "topics": [topic],
                  "group_id": "live", "dead_letter_topic": f"{topic}.dlq",
                  "commit_interval_ms": 100},
        "ortto": {"api_key": "pau-cli-key", "endpoint": sandbox.url},
        "batching": {"linger_ms": 20},
        "metrics": {"port": None},
    }


def _command(config: dict[str, Any], tmp_path: Path, *args: str) -> list[str]:
    path = tmp_path / "streamer.yaml"
    path.write_text(yaml.safe_dump(config))
    return [sys.executable, "-m", "streamer", "replay", "--config", str(path), *args]


def test_replay_prints_one_json_summary_and_exits_0(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = new_topic(partitions=1)
    kafka_broker.create_topic(f"{topic}.dlq", 1)
    events = [e for e in sample_events(100, seed=51, page_share=0) if e["type"] == "track"]
    kafka_broker.produce(topic, [orjson.dumps(e) for e in events])
    with SandboxServer(SandboxState(ban=False)).run_in_thread() as sandbox:
        done = subprocess.run(
            _command(_config(kafka_broker, topic, sandbox), tmp_path,
                     "--topic", topic, "--from-offset", "10", "--json"),
            capture_output=True, text=True, timeout=120, check=False)
        delivered = {a["message_id"] for a in sandbox.state.activities}
    assert done.returncode == 0, done.stderr
    summary = orjson.loads(done.stdout)
    assert summary["status"] == "done"
    assert summary["delivered"] == len(events) - 10
    assert summary["partitions"] == [
        {"topic": topic, "partition": 0, "from": 10, "to": len(events), "next": len(events)}]
    assert delivered == {e["messageId"] for e in events[10:]}


def test_a_range_outside_the_partition_exits_2_and_sends_nothing(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = new_topic(partitions=1)
    kafka_broker.produce(topic, [b"{}"] * 5)
    with SandboxServer(SandboxState(ban=False)).run_in_thread() as sandbox:
        done = subprocess.run(
            _command(_config(kafka_broker, topic, sandbox), tmp_path,
                     "--topic", topic, "--from-offset", "0=3", "--to-offset", "0=9"),
            capture_output=True, text=True, timeout=60, check=False)
        requests = sandbox.state.requests
    assert done.returncode == 2
    assert "end 9 is past its end: it holds offsets 0 to 5" in done.stderr
    assert requests == []


def test_an_interrupted_replay_stops_cleanly_exits_130_and_says_where_to_resume(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = new_topic(partitions=1)
    kafka_broker.create_topic(f"{topic}.dlq", 1)
    events = [e for e in sample_events(1000, seed=52, page_share=0) if e["type"] == "track"]
    kafka_broker.produce(topic, [orjson.dumps(e) for e in events])
    with SandboxServer(SandboxState(ban=False)).run_in_thread() as sandbox:
        process = subprocess.Popen(
            _command(_config(kafka_broker, topic, sandbox), tmp_path,
                     "--topic", topic, "--from-beginning", "--rate", "50"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not sandbox.state.activities:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        delivered = len(sandbox.state.activities)
    assert process.returncode == 130, err
    assert "replay interrupted" in out
    [resume] = [line for line in out.splitlines() if line.startswith("to resume:")]
    start = int(resume.split("--from-offset 0=")[1].split()[0])
    # What was read before the signal was delivered (a clean stop), and resuming starts there.
    assert 0 < start < len(events)
    assert delivered == start
    assert f"--to-offset 0={len(events)}" in resume
