"""End to end: the pipeline's throughput against raw consumption of the same topic.

Starts a local Kafka broker and the Ortto sandbox in a child process (retaining only its
de-duplication keys), produces realistic Segment events (50/50 identify/track) to a topic, then,
alternating, for each run:

* raw: a bare confluent-kafka consumer reads the whole topic (the ceiling: nothing is done);
* streamer: the whole pipeline (decode, route, map, validate, batch, deliver over HTTP, settle,
  commit) from a fresh consumer group until every offset is committed.

Prints each run, the medians, their ratio, and the pipeline's CPU time per message. The machine
is shared and noisy: compare figures of one invocation, never across invocations.

    python bench/bench_pipeline.py [--events 200000] [--partitions 4] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import orjson
from confluent_kafka import Consumer

from streamer.app import build_pipeline
from streamer.config import parse_config
from streamer.sandbox import SandboxProcess
from streamer.testing import KafkaBroker, sample_events, start_local_broker

API_KEY = "pau-bench"


def produce(broker: KafkaBroker, topic: str, events: int) -> dict[int, int]:
    values = [orjson.dumps(e) for e in sample_events(events, seed=1, page_share=0.0)]
    chunk = 20_000
    for start in range(0, len(values), chunk):
        broker.produce(topic, values[start:start + chunk],
                       producer_config={"linger.ms": 20, "batch.num.messages": 10_000})
    return broker.end_offsets(topic)


def raw_consume(bootstrap: str, topic: str, total: int) -> float:
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": f"raw-{uuid.uuid4().hex[:8]}",
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
    })
    consumer.subscribe([topic])
    seen = 0
    started: float | None = None
    while seen < total:
        messages = consumer.consume(1000, 1.0)
        if messages and started is None:
            started = time.perf_counter()
        seen += sum(1 for m in messages if m.error() is None)
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    return seen / elapsed


async def pipeline_run(
    bootstrap: str, topic: str, sandbox_url: str, ends: dict[int, int]
) -> tuple[float, float]:
    group = f"bench-{uuid.uuid4().hex[:8]}"
    config = parse_config({
        "kafka": {"bootstrap_servers": bootstrap, "topics": [topic], "group_id": group,
                  "start_from": "earliest",
                  "dead_letter_topic": f"{topic}.dlq", "commit_interval_ms": 200},
        "ortto": {"api_key": API_KEY, "endpoint": sandbox_url},
        "batching": {"max_items": 500, "linger_ms": 100},
        "delivery": {"max_in_flight": 16},
        "metrics": {"port": None},
    }, environ={})
    pipeline = await build_pipeline(config)
    task = asyncio.create_task(pipeline.run())
    total = sum(ends.values())
    # The clock starts at the first consumed message, as for the raw consumer.
    while pipeline.stats().consumed == 0:
        await asyncio.sleep(0.001)
    started, cpu_started = time.perf_counter(), time.process_time()
    while not all(pipeline.committed.get((topic, p), 0) >= e for p, e in ends.items()):
        if task.done():
            task.result()
            raise RuntimeError("the pipeline stopped before committing everything")
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    pipeline.stop()
    await task
    return total / elapsed, cpu / total * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    broker = start_local_broker()
    try:
        topic = "bench-events"
        broker.create_topic(topic, args.partitions)
        broker.create_topic(f"{topic}.dlq", 1)
        ends = produce(broker, topic, args.events)
        total = sum(ends.values())
        print(f"{total:,} events on {args.partitions} partitions "
              f"(50% identify, 50% track); sandbox in a child process")
        raw_rates: list[float] = []
        rates: list[float] = []
        cpus: list[float] = []
        with SandboxProcess(api_keys=None, ban=False, retain="keys") as sandbox:
            for run in range(1, args.runs + 1):
                raw = raw_consume(broker.bootstrap_servers, topic, total)
                rate, cpu = asyncio.run(
                    pipeline_run(broker.bootstrap_servers, topic, sandbox.url, ends))
                raw_rates.append(raw)
                rates.append(rate)
                cpus.append(cpu)
                print(f"run {run}: raw consume {raw:>10,.0f} msg/s | streamer {rate:>9,.0f} "
                      f"msg/s ({rate / raw:.1%} of raw), {cpu:.1f} us CPU/msg")
        raw_median, median = statistics.median(raw_rates), statistics.median(rates)
        print(f"median: raw consume {raw_median:,.0f} msg/s, streamer {median:,.0f} msg/s, "
              f"ratio {median / raw_median:.1%}; pipeline CPU {statistics.median(cpus):.1f} "
              f"us/msg")
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
