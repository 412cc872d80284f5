"""The local Kafka broker and its helpers, against the real thing."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient

from streamer._exceptions import BrokerError
from streamer.testing import KafkaBroker, KafkaCluster, TopicFactory, start_local_broker
from streamer.testing import _broker as broker_module

pytestmark = pytest.mark.kafka


def _processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains ``text`` (the broker's data dir names its JVM)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            pids.append(int(entry.name))
    return pids


def _eventually(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())


# -- the session broker ---------------------------------------------------------------------------


def test_session_broker_answers_metadata_on_loopback(
    kafka_broker: KafkaCluster, kafka_bootstrap: str
) -> None:
    assert kafka_bootstrap == kafka_broker.bootstrap_servers
    metadata = AdminClient({"bootstrap.servers": kafka_bootstrap}).list_topics(timeout=10)
    assert len(metadata.brokers) >= 1
    if isinstance(kafka_broker, KafkaBroker):
        assert kafka_bootstrap == f"127.0.0.1:{kafka_broker.port}"
        assert kafka_broker.running
        assert kafka_broker.log_path is not None
        assert "Kafka Server started" in kafka_broker.log_path.read_text()


def test_created_topic_has_every_partition_ready(
    kafka_broker: KafkaCluster, new_topic: TopicFactory
) -> None:
    topic = new_topic(3)
    assert topic in kafka_broker.topics()
    assert kafka_broker.partition_count(topic) == 3
    assert kafka_broker.end_offsets(topic) == {0: 0, 1: 0, 2: 0}


def test_topic_config_is_applied(kafka_broker: KafkaCluster, new_topic: TopicFactory) -> None:
    topic = new_topic(1, config={"cleanup.policy": "compact"})
    kafka_broker.produce(topic, ["v"], key="k")
    assert [m.value for m in kafka_broker.consume_all(topic)] == [b"v"]


def test_topics_are_not_created_implicitly(kafka_broker: KafkaCluster) -> None:
    missing = f"never-created-{time.monotonic_ns()}"
    with pytest.raises(KafkaException):
        kafka_broker.partition_count(missing)
    assert missing not in kafka_broker.topics()


def test_delete_topic_removes_it(kafka_broker: KafkaCluster, new_topic: TopicFactory) -> None:
    topic = new_topic()
    kafka_broker.delete_topic(topic)
    assert topic not in kafka_broker.topics()


def test_produce_and_consume_round_trip(
    kafka_broker: KafkaCluster, new_topic: TopicFactory
) -> None:
    topic = new_topic(2)
    first = kafka_broker.produce(
        topic, ["a", b"b"], key=b"user-1", headers={"source": "test"}, partition=1
    )
    second = kafka_broker.produce(topic, [None], headers=[("h", "1"), ("h", b"2")], partition=0)

    assert first == [(1, 0), (1, 1)]
    assert second == [(0, 0)]
    messages = kafka_broker.consume_all(topic)
    assert [(m.partition, m.offset, m.key, m.value) for m in messages] == [
        (0, 0, None, None),
        (1, 0, b"user-1", b"a"),
        (1, 1, b"user-1", b"b"),
    ]
    assert messages[0].headers == (("h", b"1"), ("h", b"2"))
    assert messages[0].header("h") == b"2"
    assert messages[1].header("source") == b"test"
    assert messages[1].header("absent") is None
    assert all(m.topic == topic and m.timestamp_ms > 0 for m in messages)
    assert kafka_broker.end_offsets(topic) == {0: 1, 1: 2}


def test_one_key_lands_in_one_partition(
    kafka_broker: KafkaCluster, new_topic: TopicFactory
) -> None:
    topic = new_topic(4)
    positions = kafka_broker.produce(topic, [str(i) for i in range(20)], key="same-user")
    assert len({partition for partition, _ in positions}) == 1
    assert [offset for _, offset in positions] == list(range(20))


def test_consume_all_waits_for_records_still_to_come(
    kafka_broker: KafkaCluster, new_topic: TopicFactory
) -> None:
    topic = new_topic()
    kafka_broker.produce(topic, ["early"])
    later = threading.Timer(0.5, lambda: kafka_broker.produce(topic, ["late-1", "late-2"]))
    later.start()
    try:
        messages = kafka_broker.consume_all(topic, min_count=3, timeout=20)
    finally:
        later.join()
    assert [m.value for m in messages] == [b"early", b"late-1", b"late-2"]


def test_consume_all_returns_what_it_has_when_time_runs_out(
    kafka_broker: KafkaCluster, new_topic: TopicFactory
) -> None:
    topic = new_topic()
    kafka_broker.produce(topic, ["only"])
    started = time.monotonic()
    messages = kafka_broker.consume_all(topic, min_count=2, timeout=1.0)
    assert [m.value for m in messages] == [b"only"]
    assert time.monotonic() - started < 5


def test_a_tail_reads_only_what_is_new_and_keeps_the_rest(
    kafka_broker: KafkaCluster, new_topic: TopicFactory
) -> None:
    topic = new_topic(2)
    kafka_broker.produce(topic, ["a", "b"], partition=0)
    kafka_broker.produce(topic, ["c"], partition=1)
    with kafka_broker.tail(topic) as tail:
        first = tail.read()
        assert [(m.partition, m.offset, m.value) for m in first] == [
            (0, 0, b"a"), (0, 1, b"b"), (1, 0, b"c")
        ]
        assert tail.read() == first  # nothing new: the same records, read once
        kafka_broker.produce(topic, ["d"], partition=0)
        later = threading.Timer(0.5, lambda: kafka_broker.produce(topic, ["e"], partition=1))
        later.start()
        try:
            # Everything written before the call is in its answer; min_count waits for more.
            assert [m.value for m in tail.read()] == [b"a", b"b", b"d", b"c"]
            grown = tail.read(min_count=5, timeout=30)
        finally:
            later.join()
    assert [(m.partition, m.offset, m.value) for m in grown] == [
        (0, 0, b"a"), (0, 1, b"b"), (0, 2, b"d"), (1, 0, b"c"), (1, 1, b"e")
    ]
    assert kafka_broker.consume_all(topic) == grown


def test_committed_offsets_read_back(
    kafka_broker: KafkaCluster, kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    topic, other = new_topic(2), new_topic(1)
    group = f"group-{time.monotonic_ns()}"
    kafka_broker.produce(topic, ["a", "b", "c"], partition=0)
    kafka_broker.produce(topic, ["d"], partition=1)
    assert kafka_broker.committed_offsets(group, topic) == {}

    # A real group member with a 1 s session timeout: the broker must allow it (tests rely on it).
    consumer = Consumer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 1000,
            "heartbeat.interval.ms": 300,
        }
    )
    try:
        consumer.subscribe([topic])
        read: list[Message] = []
        deadline = time.monotonic() + 30
        while len(read) < 4 and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is not None:
                assert message.error() is None, message.error()
                read.append(message)
        assert len(read) == 4
        last = {m.partition(): m for m in read}
        consumer.commit(message=last[0], asynchronous=False)  # commits offset 3 on partition 0
        consumer.commit(
            offsets=[TopicPartition(other, 0, 7)], asynchronous=False
        )  # another topic, same group
    finally:
        consumer.close()

    assert kafka_broker.committed_offsets(group, topic) == {0: 3}
    assert kafka_broker.committed_offsets(group, other) == {0: 7}
    assert kafka_broker.wait_for_committed(group, topic, {0: 3}, timeout=5) == {0: 3}
    with pytest.raises(TimeoutError, match="expected"):
        kafka_broker.wait_for_committed(group, topic, {1: 1}, timeout=0.3)


# -- brokers of their own -------------------------------------------------------------------------


def test_start_failure_names_the_cause_and_quotes_the_log() -> None:
    broker = KafkaBroker(extra_properties={"num.io.threads": "not-a-number"})
    with pytest.raises(BrokerError) as raised:
        broker.start()
    message = str(raised.value)
    assert message.startswith("Kafka ")
    assert "first error:" in message
    assert "Invalid value not-a-number for configuration num.io.threads" in message
    assert broker.data_dir is None
    assert not broker.running


def test_broker_that_cannot_bind_its_port_fails_with_its_log() -> None:
    with socket.socket() as occupant:
        occupant.bind(("127.0.0.1", 0))
        occupant.listen()
        port = occupant.getsockname()[1]
        broker = KafkaBroker(port=port, start_timeout=60)
        with pytest.raises(BrokerError) as raised:
            broker.start()
    message = str(raised.value)
    assert "exited with status" in message
    assert f"failed to bind to 127.0.0.1:{port}" in message
    assert "--- server.log (last lines) ---" in message
    assert broker.data_dir is None


def test_lifecycle_restart_pause_and_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    # Kafka's cluster ids may begin with "-", which the storage tool must not read as an option.
    monkeypatch.setattr(broker_module, "_new_cluster_id", lambda: "-leading-dash-id-00000")
    # start_local_broker() returns a running broker that `with` then owns (the demo's way).
    with start_local_broker() as broker:
        data_dir = broker.data_dir
        assert data_dir is not None and (data_dir / "server.properties").is_file()
        assert (
            "cluster.id=-leading-dash-id-00000" in (data_dir / "kraft/meta.properties").read_text()
        )
        assert _processes_mentioning(str(data_dir))

        broker.create_topic("kept", 2)
        broker.produce("kept", ["before restart"], partition=1)
        broker.restart()
        assert broker.data_dir == data_dir
        assert [m.value for m in broker.consume_all("kept")] == [b"before restart"]

        broker.pause()
        frozen = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
        with pytest.raises(KafkaException):
            frozen.list_topics(timeout=1)
        broker.resume()
        assert "kept" in broker.topics()
        del frozen

    assert broker.data_dir is None
    assert not data_dir.exists()
    assert _processes_mentioning(str(data_dir)) == []
    assert not broker.running
    with pytest.raises(BrokerError, match="not started"):
        _ = broker.bootstrap_servers
    broker.stop()  # twice is harmless


def test_broker_dies_with_the_process_that_started_it() -> None:
    script = (
        "import os, signal\n"
        "from streamer.testing import KafkaBroker\n"
        "broker = KafkaBroker().start()\n"
        "print(broker.data_dir, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"  # no atexit, no cleanup: a crash
    )
    crashed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert crashed.returncode == -9, crashed.stderr
    data_dir = crashed.stdout.strip()
    assert "streamer-kafka-" in data_dir

    assert _eventually(lambda: _processes_mentioning(data_dir) == [], timeout=30)
    assert _eventually(lambda: not Path(data_dir).exists(), timeout=10)
