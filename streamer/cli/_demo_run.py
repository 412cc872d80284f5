"""The demo's steps (kept apart from the argument parsing, which must import nothing heavy)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import Any

import orjson
from confluent_kafka import Producer

from ..app import build_pipeline
from ..config import parse_config
from ..sandbox import SandboxServer, SandboxState
from ..testing import KafkaBroker, start_local_broker
from ..testing._fakes import poison_values, sample_events

__all__ = ["run_demo"]

TOPIC = "segment-events"
DEAD_LETTER = "segment-events.dead-letter"

# A sandbox with some of Ortto's bad days: whole-request 503s and 429s (retried), and 0.5% of
# items refused with a 400 (dead-lettered at stage deliver with Ortto's message).
DEMO_FAULTS: dict[str, Any] = {
    "seed": 11,
    "rules": [
        {"kind": "request_error", "status": 503, "rate": 0.05, "endpoints": ["track", "identify"]},
        {"kind": "rate_limit", "rate": 0.03, "retry_after": 0, "endpoints": ["track", "identify"]},
        {"kind": "item_error", "status": 400, "rate": 0.005, "message": "email is not valid",
         "endpoints": ["identify"]},
    ],
}


def _say(text: str) -> None:
    print(f"» {text}", flush=True)


def _produce(bootstrap: str, events: int) -> tuple[int, Counter[str]]:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "acks": "all",
                         "logger": logging.getLogger("streamer.kafka")})
    kinds: Counter[str] = Counter()
    for event in sample_events(events):
        kinds[event["type"]] += 1
        key = (event.get("userId") or event["anonymousId"]).encode()
        while True:
            try:
                producer.produce(TOPIC, value=orjson.dumps(event), key=key)
                break
            except BufferError:
                producer.poll(0.1)
    for reason, value in poison_values().items():
        kinds[f"poison:{reason}"] += 1
        producer.produce(TOPIC, value=value, key=b"poison")
    left = producer.flush(30)
    if left:
        raise RuntimeError(f"{left} sample events were not acknowledged by the broker")
    return sum(kinds.values()), kinds


async def run_demo(*, events: int, partitions: int, timeout_s: float, faults: bool) -> bool:
    _say("starting a local Kafka broker (the first run fetches its jars with Maven)")
    broker: KafkaBroker = await asyncio.to_thread(start_local_broker)
    try:
        return await _with_broker(broker, events, partitions, timeout_s, faults)
    finally:
        await asyncio.to_thread(broker.stop)


async def _with_broker(
    broker: KafkaBroker, events: int, partitions: int, timeout_s: float, faults: bool
) -> bool:
    bootstrap = broker.bootstrap_servers
    broker.create_topic(TOPIC, partitions)
    broker.create_topic(DEAD_LETTER, 1)
    _say(f"Kafka at {bootstrap}; producing {events:,} sample events and a few poison values")
    produced, kinds = await asyncio.to_thread(_produce, bootstrap, events)
    ends = broker.end_offsets(TOPIC)

    sandbox = SandboxServer(SandboxState(faults=DEMO_FAULTS if faults else None, ban=True))
    await sandbox.start()
    try:
        _say(f"Ortto sandbox at {sandbox.url}" + (" (with injected faults)" if faults else ""))
        config = parse_config({
            "kafka": {"bootstrap_servers": bootstrap, "topics": [TOPIC], "group_id": "demo",
                      "start_from": "earliest",
                      "dead_letter_topic": DEAD_LETTER, "commit_interval_ms": 200},
            "ortto": {"api_key": "pau-demo-key", "endpoint": sandbox.url},
            "batching": {"max_items": 500, "linger_ms": 100},
            "delivery": {"backoff_initial_s": 0.05, "backoff_max_s": 1.0},
            "metrics": {"port": 0, "host": "127.0.0.1"},
        }, environ={})
        pipeline = await build_pipeline(config)
        _say("pipeline running: consume → route → map → batch → deliver → commit")
        started = time.perf_counter()
        task = asyncio.create_task(pipeline.run())
        done = await _wait_until_committed(pipeline, ends, timeout_s, task)
        seconds = time.perf_counter() - started
        pipeline.stop()
        await task
        stats = pipeline.stats()
        state = sandbox.state
        dead = broker.consume_all(DEAD_LETTER, min_count=stats.dead_lettered, timeout=10)
        committed = broker.committed_offsets("demo", TOPIC)
    finally:
        await sandbox.stop()

    reasons = Counter(
        f"{(m.header('streamer.stage') or b'?').decode()}/"
        f"{(m.header('streamer.reason') or b'?').decode()}" for m in dead
    )
    sandbox_stats = state.stats()
    kinds_text = ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items()))
    print()
    print("streamer demo: summary")
    print(f"  produced        {produced:>8,}  ({kinds_text})")
    print(f"  consumed        {stats.consumed:>8,}  in {seconds:.1f}s "
          f"({stats.consumed / max(seconds, 1e-9):,.0f} msg/s)")
    print(f"  filtered        {stats.filtered:>8,}  (matched no subscription: pages)")
    print(f"  delivered       {stats.delivered:>8,}  items accepted by the sandbox "
          f"({len(state.activities):,} activities, {len(state.contacts):,} contacts stored)")
    print(f"  dead-lettered   {len(dead):>8,}  in {DEAD_LETTER}:")
    for reason, count in sorted(reasons.items()):
        print(f"      {count:>6,}  {reason}")
    print(f"  retried items   {_retried(pipeline):>8,}")
    print("  committed       " + ", ".join(
        f"p{p}={committed.get(p, 0):,}/{end:,}" for p, end in sorted(ends.items())))
    answers: Counter[str] = Counter()
    for endpoint in sandbox_stats["endpoints"].values():
        answers.update(endpoint["statuses"])
    print("  sandbox answers " + ", ".join(f"{k}: {v:,}" for k, v in sorted(answers.items()))
          + f"; duplicate activities ignored {sandbox_stats['activity_duplicates']:,}")
    ok = done and all(committed.get(p, 0) == end for p, end in ends.items())
    print("  result          " + ("every message delivered, filtered or dead-lettered; "
                                  "offsets committed to the end" if ok else "INCOMPLETE"))
    return ok


async def _wait_until_committed(
    pipeline: Any, ends: dict[int, int], timeout_s: float, task: asyncio.Task[None]
) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not task.done():
        committed = pipeline.committed
        if all(committed.get((TOPIC, p), 0) >= end for p, end in ends.items()):
            return True
        await asyncio.sleep(0.1)
    if task.done():
        task.result()
    return False


def _retried(pipeline: Any) -> int:
    total = 0.0
    for metric in pipeline.metrics.retried.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                total += sample.value
    return int(total)
