"""Peak memory of ``streamer run`` through a backlog: VmHWM of its process, nothing else.

Starts a local Kafka broker and the Ortto sandbox in a child process (retaining only its
de-duplication keys, so that it is not the bottleneck), writes a backlog of ~1 KB
Segment-SDK-shaped events (50/50 identify/track: ``context.library``, ``userAgent``, ``page``,
``campaign``, ``ip``, ``locale``, the three timestamps, ``integrations``, UUID ``messageId`` and
``anonymousId``) to one topic per (events, partitions) case, then runs ``python -m streamer run``
as a child process from a fresh consumer group with ``kafka.start_from: earliest`` until the
group's committed offsets reach the end of every partition (read from the broker), and stops it
with SIGTERM. While it runs, ``/proc/<pid>/status`` is sampled (VmRSS, VmHWM) every
``--sample-s``; the figure reported is VmHWM just before the stop (the kernel's own peak of the
resident set), with the process's CPU time per event (steadier than its wall time on a shared
machine; start-up included). The sandbox's and the broker's memory are not counted.

Prints one line per case and writes every figure (with an RSS timeline) as JSON:

    python bench/bench_memory.py [--events 300000 1000000] [--partitions 1 12]
        [--delivery max_pending_bytes=33554432] [--sandbox-delay-s 1.0] [--compression zstd]
        [--out bench-memory.json]

``--sandbox-delay-s`` makes Ortto slow, so that work piles up to the high-water marks and the
process pauses: the worst case of memory, which a lean sandbox never reaches.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import yaml

from streamer.sandbox import SandboxProcess
from streamer.testing import KafkaBroker, start_local_broker

API_KEY = "pau-bench-memory"

_BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
)
_LOCALES = ("en-US", "en-AU", "en-GB", "de-DE", "fr-FR", "ja-JP")
_PAGES = ("/", "/pricing", "/products/shoes", "/checkout", "/blog/how-we-ship", "/account")
_EVENTS = ("Order Completed", "Product Viewed", "Cart Viewed", "Signed Up", "Checkout Started")
_CAMPAIGNS = ("spring_sale", "retargeting", "newsletter_42", "brand")
_CITIES = (("Sydney", "NSW", "Australia", "2000"), ("Berlin", "BE", "Germany", "10115"),
           ("Austin", "TX", "United States", "73301"), ("Lyon", "ARA", "France", "69001"))


def sdk_event(rng: random.Random, i: int, base: datetime) -> dict[str, Any]:
    """One event as analytics.js sends it (about 1 KB of JSON)."""
    user = rng.randrange(50_000)
    at = base + timedelta(milliseconds=i * 13)
    sent = at + timedelta(milliseconds=rng.randrange(5, 900))
    received = sent + timedelta(milliseconds=rng.randrange(5, 300))

    def stamp(moment: datetime) -> str:
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    path = rng.choice(_PAGES)
    host = "https://shop.example.com"
    event: dict[str, Any] = {
        "messageId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "anonymousId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "userId": f"user-{user}",
        "channel": "client",
        "context": {
            "library": {"name": "analytics.js", "version": "npm:next-1.70.0"},
            "userAgent": rng.choice(_BROWSERS),
            "page": {
                "path": path, "referrer": "https://www.google.com/", "search": "",
                "title": "Example Shop", "url": host + path,
            },
            "campaign": {"name": rng.choice(_CAMPAIGNS), "source": "google",
                         "medium": "cpc", "term": "running shoes", "content": "ad-3"},
            "ip": f"203.0.{rng.randrange(256)}.{rng.randrange(256)}",
            "locale": rng.choice(_LOCALES),
        },
        "integrations": {"All": True},
        "originalTimestamp": stamp(at),
        "timestamp": stamp(at),
        "sentAt": stamp(sent),
        "receivedAt": stamp(received),
        "version": 2,
    }
    if i % 2 == 0:
        city, state, country, post = rng.choice(_CITIES)
        event.update(type="identify", traits={
            "email": f"user{user}@example.com", "first_name": "Ada", "last_name": "Lee",
            "phone": "+61 400 000 000", "plan": rng.choice(("free", "pro", "team")),
            "logins": rng.randrange(1, 500),
            "address": {"city": city, "state": state, "country": country, "postal_code": post},
        })
    else:
        event.update(type="track", event=rng.choice(_EVENTS), properties={
            "sku": f"SKU-{rng.randrange(900)}", "price": round(rng.uniform(5, 400), 2),
            "currency": "AUD", "quantity": rng.randrange(1, 4), "category": "shoes",
        })
    return event


def produce(
    broker: KafkaBroker, topic: str, events: int, partitions: int, compression: str = "lz4"
) -> dict[int, int]:
    from confluent_kafka import Producer

    broker.create_topic(topic, partitions)
    producer = Producer({
        "bootstrap.servers": broker.bootstrap_servers, "linger.ms": 50,
        "batch.num.messages": 10_000, "compression.type": compression,
        "queue.buffering.max.kbytes": 262_144,
    })
    rng = random.Random(events * 100 + partitions)
    base = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    dumps, size = orjson.dumps, 0
    for i in range(events):
        value = dumps(sdk_event(rng, i, base))
        size += len(value)
        while True:
            try:
                producer.produce(topic, value, partition=i % partitions)
                break
            except BufferError:
                producer.poll(0.1)
        if i % 10_000 == 0:
            producer.poll(0)
    if producer.flush(120.0):
        raise RuntimeError("the backlog could not be written")
    print(f"  {events:,} events on {topic} ({partitions} partitions), "
          f"{size / events:,.0f} bytes each on average", flush=True)
    return broker.end_offsets(topic)


def status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of ``pid`` in KiB (empty once it has gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return {}
    out: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[name] = int(rest.split()[0])
    return out


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of ``pid`` so far (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_case(
    broker: KafkaBroker, sandbox_url: str, topic: str, ends: dict[int, int],
    delivery: dict[str, Any], sample_s: float, timeout_s: float,
) -> dict[str, Any]:
    group = f"bench-memory-{uuid.uuid4().hex[:8]}"
    config = {
        "kafka": {"bootstrap_servers": broker.bootstrap_servers, "topics": [topic],
                  "group_id": group, "start_from": "earliest",
                  "dead_letter_topic": "bench-memory.dlq"},
        "ortto": {"api_key": API_KEY, "endpoint": sandbox_url},
        "delivery": {"max_in_flight": 16, **delivery},
        "metrics": {"port": None},
        "logging": {"format": "json", "level": "INFO"},
    }
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as scratch:
        path = Path(scratch, "streamer.yaml")
        path.write_text(yaml.safe_dump(config))
        log = Path(scratch, "streamer.log")
        with log.open("wb") as out:
            started = time.monotonic()
            process = subprocess.Popen(
                [sys.executable, "-m", "streamer", "run", "--config", str(path)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                # Not the caller's directory: `-m` puts it first on sys.path, and a checkout
                # there would be what runs instead of the installed (or PYTHONPATH) streamer.
                cwd=scratch,
            )
            timeline: list[tuple[float, int]] = []
            peak: dict[str, int] = {}
            next_check = 0.0
            try:
                while True:
                    now = time.monotonic() - started
                    if process.poll() is not None:
                        raise RuntimeError(f"streamer exited with {process.returncode}:\n"
                                           + log.read_text()[-3000:])
                    sample = status(process.pid)
                    if sample:
                        peak = sample
                        timeline.append((round(now, 2), sample.get("VmRSS", 0)))
                    if now >= next_check:
                        committed = broker.committed_offsets(group, topic)
                        if all(committed.get(p, 0) >= end for p, end in ends.items()):
                            break
                        next_check = now + 1.0
                    if now > timeout_s:
                        raise RuntimeError(f"not every offset committed after {timeout_s:g}s")
                    time.sleep(sample_s)
                elapsed = time.monotonic() - started
                peak = status(process.pid) or peak
                cpu = cpu_seconds(process.pid)
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(30.0)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        pauses = log.read_text().count("pausing consumption")
    return {
        "events": sum(ends.values()), "partitions": len(ends),
        "peak_rss_mb": round(peak.get("VmHWM", 0) / 1024, 1),
        "seconds": round(elapsed, 1), "pauses": pauses,
        "cpu_us_per_event": round(cpu / sum(ends.values()) * 1e6, 1),
        "rss_timeline_mb": [
            (t, round(kb / 1024, 1)) for t, kb in timeline[:: max(1, len(timeline) // 60)]
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[300_000, 1_000_000])
    parser.add_argument("--partitions", type=int, nargs="+", default=[1, 12])
    parser.add_argument("--delivery", nargs="*", default=[], metavar="KEY=VALUE",
                        help="delivery settings of the run (integers), such as "
                        "max_pending_items=50000")
    parser.add_argument("--sandbox-delay-s", type=float, default=0.0,
                        help="every answer of the sandbox this late: a slow Ortto, so that work "
                        "piles up to the high-water marks (the worst case of memory)")
    parser.add_argument("--compression", default="lz4",
                        choices=["lz4", "zstd", "gzip", "snappy", "none"],
                        help="how the backlog is compressed on the broker: a fetch is counted "
                        "four times its size once decompressed, which zstd exceeds")
    parser.add_argument("--sample-s", type=float, default=0.2)
    parser.add_argument("--timeout-s", type=float, default=1200.0)
    parser.add_argument("--out", default="bench-memory.json")
    args = parser.parse_args()
    delivery = {k: int(v) for k, v in (item.split("=", 1) for item in args.delivery)}

    results: list[dict[str, Any]] = []
    broker = start_local_broker()
    try:
        broker.create_topic("bench-memory.dlq", 1)
        faults = ([{"kind": "delay", "seconds": args.sandbox_delay_s}]
                  if args.sandbox_delay_s > 0 else None)
        with SandboxProcess(api_keys=None, ban=False, retain="keys", faults=faults) as sandbox:
            for events in args.events:
                for partitions in args.partitions:
                    topic = f"bench-memory-{events}-{partitions}"
                    ends = produce(broker, topic, events, partitions, args.compression)
                    result = run_case(broker, sandbox.url, topic, ends, delivery,
                                      args.sample_s, args.timeout_s)
                    results.append(result)
                    print(f"{events:>9,} events, {partitions:>2} partitions: peak RSS "
                          f"{result['peak_rss_mb']:,.1f} MB (VmHWM), {result['seconds']:.0f} s, "
                          f"{result['cpu_us_per_event']:.1f} us CPU per event, "
                          f"{result['pauses']} pauses", flush=True)
                    broker.delete_topic(topic)  # a gigabyte each: the disk is not endless
    finally:
        broker.stop()
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "delivery": delivery, "sandbox_delay_s": args.sandbox_delay_s,
        "compression": args.compression, "results": results,
    }
    Path(args.out).write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
