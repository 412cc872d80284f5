"""End to end: the pipeline's throughput against raw consumption of the same topic.

Starts a local Kafka broker and the Ortto sandbox in a child process (retaining only its
de-duplication keys), produces Segment events (50/50 identify/track; ``--shape sdk``, the
default: about 1 KB each, as Segment's libraries send them, ``streamer.testing.sdk_events``;
``--shape
sample``: the smaller ``streamer.testing.sample_events``) to a topic, then, alternating, for
each run:

* raw: a bare confluent-kafka consumer reads the whole topic and ``orjson.loads`` every value
  (the ceiling);
* streamer: the whole pipeline (decode, route, map, validate, batch, deliver over HTTP, settle,
  commit) from a fresh consumer group until every offset is committed.

Prints each run, the medians, the ratio of the rates and, first, the CPU time per event of each
(this process's CPU: librdkafka's threads included, the sandbox's not). CPU per event and
same-run ratios hold on a shared machine; rates swing with the neighbours' load.

    python bench/bench_pipeline.py [--events 200000] [--partitions 4] [--runs 3]

``--only streamer`` skips the raw consumer (for a profiler attached to this process:
``py-spy record -o prof.json --format speedscope -- python bench/bench_pipeline.py --only
streamer``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

import orjson

from streamer.app import build_pipeline
from streamer.app._runner import prepare_collector
from streamer.config import parse_config
from streamer.sandbox import SandboxProcess
from streamer.testing import KafkaBroker, sample_events, sdk_events, start_local_broker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.system.ceiling import consume

API_KEY = "pau-bench"


def produce(
    broker: KafkaBroker, topic: str, events: int, shape: str
) -> tuple[dict[int, int], float]:
    generated = ((e for _key, e in sdk_events(events, seed=1)) if shape == "sdk"
                 else sample_events(events, seed=1, page_share=0.0))
    values = [orjson.dumps(e) for e in generated]
    chunk = 20_000
    for start in range(0, len(values), chunk):
        broker.produce(topic, values[start:start + chunk],
                       producer_config={"linger.ms": 20, "batch.num.messages": 10_000})
    return broker.end_offsets(topic), sum(map(len, values)) / len(values)


def raw_consume(bootstrap: str, topic: str, total: int) -> tuple[float, float]:
    """The ceiling of the whole-system benchmark, in this process: (msg/s, CPU us per msg)."""
    figures = consume(bootstrap, topic, total)
    return figures["events"] / figures["seconds"], figures["cpu_s"] / figures["events"] * 1e6


async def pipeline_run(
    bootstrap: str, topic: str, sandbox_url: str, ends: dict[int, int], ordering: str
) -> tuple[float, float, float]:
    group = f"bench-{uuid.uuid4().hex[:8]}"
    config = parse_config({
        "kafka": {"bootstrap_servers": bootstrap, "topics": [topic], "group_id": group,
                  "start_from": "earliest",
                  "dead_letter_topic": f"{topic}.dlq", "commit_interval_ms": 200},
        "ortto": {"api_key": API_KEY, "endpoint": sandbox_url},
        "batching": {"max_items": 500, "linger_ms": 100},
        "delivery": {"max_in_flight": 16, "ordering": ordering},
        "metrics": {"port": None},
    }, environ={})
    pipeline = await build_pipeline(config)
    prepare_collector()  # as run_until_signalled does between start-up and the stream
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
    requests = sum(sample.value for metric in pipeline.metrics.requests.collect()
                   for sample in metric.samples if sample.name == "streamer_requests_total")
    return total / elapsed, cpu / total * 1e6, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shape", choices=("sdk", "sample"), default="sdk")
    parser.add_argument("--only", choices=("both", "streamer"), default="both")
    parser.add_argument("--ordering", choices=("per_contact", "none"), default="per_contact",
                        help="delivery.ordering (default: per_contact, the configuration's)")
    args = parser.parse_args()

    broker = start_local_broker()
    try:
        topic = "bench-events"
        broker.create_topic(topic, args.partitions)
        broker.create_topic(f"{topic}.dlq", 1)
        ends, size = produce(broker, topic, args.events, args.shape)
        total = sum(ends.values())
        print(f"{total:,} events on {args.partitions} partitions ({args.shape} shape, "
              f"{size:,.0f} bytes of JSON on average; 50% identify, 50% track); sandbox in a "
              "child process")
        raw_rates: list[float] = []
        raw_cpus: list[float] = []
        rates: list[float] = []
        cpus: list[float] = []
        with SandboxProcess(api_keys=None, ban=False, retain="keys") as sandbox:
            for run in range(1, args.runs + 1):
                line = f"run {run}: "
                if args.only == "both":
                    raw, raw_cpu = raw_consume(broker.bootstrap_servers, topic, total)
                    raw_rates.append(raw)
                    raw_cpus.append(raw_cpu)
                    line += f"raw consume {raw_cpu:5.2f} us CPU/msg {raw:>9,.0f} msg/s | "
                rate, cpu, requests = asyncio.run(
                    pipeline_run(broker.bootstrap_servers, topic, sandbox.url, ends, args.ordering))
                rates.append(rate)
                cpus.append(cpu)
                line += (f"streamer {cpu:5.2f} us CPU/msg {rate:>9,.0f} msg/s, "
                         f"{total / max(requests, 1):.0f} items/request")
                if raw_rates:
                    line += f" (CPU {cpu / raw_cpus[-1]:.2f}x raw, rate {rate / raw_rates[-1]:.1%})"
                print(line, flush=True)
        cpu, rate = statistics.median(cpus), statistics.median(rates)
        if raw_rates:
            raw_cpu, raw = statistics.median(raw_cpus), statistics.median(raw_rates)
            print(f"median: CPU per event: streamer {cpu:.2f} us, raw consume {raw_cpu:.2f} us "
                  f"({cpu / raw_cpu:.2f}x); rate: streamer {rate:,.0f} msg/s, raw consume "
                  f"{raw:,.0f} msg/s ({rate / raw:.1%})")
        else:
            print(f"median: CPU per event: streamer {cpu:.2f} us; rate {rate:,.0f} msg/s")
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
