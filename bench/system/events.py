"""The benchmark's topics: SDK-shaped records, generated once per (mix, seed, count) and cached
under ``.bench/cache`` (rendering a million events takes tens of seconds; reading them back, one),
produced keyed by user as Segment's Kafka source would.
"""

from __future__ import annotations

import pickle
import time
from pathlib import Path

from confluent_kafka import Producer

from streamer.testing import KafkaCluster, sdk_records

__all__ = ["Records", "produce", "produce_steadily", "records", "stamped"]

Records = list[tuple[bytes, bytes]]
SEED = 14


def records(cache: Path, mix: str, count: int) -> Records:
    """``count`` records of ``mix`` (a name of ``SDK_MIXES``), from the cache when there."""
    path = cache / f"sdk-{mix}-{SEED}-{count}.pickle"
    if path.exists():
        with path.open("rb") as file:
            cached: Records = pickle.load(file)
        return cached
    made = sdk_records(count, seed=SEED, mix=mix)
    cache.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as file:
        pickle.dump(made, file, protocol=pickle.HIGHEST_PROTOCOL)
    partial.rename(path)
    return made


def _producer(cluster: KafkaCluster, linger_ms: int = 20) -> Producer:
    return Producer({
        "bootstrap.servers": cluster.bootstrap_servers, "acks": "all", "linger.ms": linger_ms,
        "batch.num.messages": 10_000, "queue.buffering.max.messages": 500_000,
        "compression.type": "none",
    })


def produce(cluster: KafkaCluster, topic: str, values: Records, partitions: int) -> int:
    """Create ``topic`` with ``partitions`` and write every record; the number written."""
    cluster.create_topic(topic, partitions)
    producer = _producer(cluster)
    for key, value in values:
        while True:
            try:
                producer.produce(topic, value=value, key=key)
                break
            except BufferError:  # the local queue is full: let librdkafka send some
                producer.poll(0.05)
    if producer.flush(120):
        raise RuntimeError(f"records to {topic} were not all acknowledged")
    return sum(cluster.end_offsets(topic).values())


_FIELD = b'"timestamp":"'


def stamped(value: bytes, stamp: bytes) -> bytes:
    """``value`` with its top-level ``timestamp`` replaced (24 bytes, ``...T..:..:..._Z``)."""
    at = value.rindex(_FIELD) + len(_FIELD)
    return value[:at] + stamp + value[at + 24:]


def produce_steadily(
    cluster: KafkaCluster, topic: str, values: Records, rate: float, seconds: float
) -> int:
    """Write ``rate`` records a second for ``seconds``, each stamped with the time it is
    produced (Kafka timestamp and the event's ``timestamp`` alike); the number written."""
    producer = _producer(cluster, linger_ms=2)  # the latency measured is streamer's, not ours
    started = time.time()
    sent = 0
    while True:
        now = time.time()
        elapsed = now - started
        if elapsed >= seconds:
            break
        due = min(len(values), int(elapsed * rate) + 1)
        if sent < due:
            millis = int(now * 1000)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)).encode()
            stamp += f".{millis % 1000:03d}Z".encode()
            for key, value in values[sent:due]:
                producer.produce(topic, value=stamped(value, stamp), key=key, timestamp=millis)
            sent = due
            if sent >= len(values):
                break
        producer.poll(0)
        time.sleep(0.002)
    if producer.flush(60):
        raise RuntimeError(f"records to {topic} were not all acknowledged")
    return sent
