"""``/metrics`` after a known run: the numbers a scrape shows are what happened.

A real broker, the sandbox over HTTP and the pipeline's own metrics server on a free port: known
events (tracks, identifies, pages and poison values) go through, and the sandbox's fault plan
answers two track requests 503, one identify request 429, and refuses some track items with a
400 in a 200 answer. Once everything is committed, ``/metrics`` is scraped over HTTP and parsed
with prometheus-client's parser, and each figure is compared with the sandbox's record (the
statuses it answered, the items it received and stored), the dead-letter topic's headers and
the broker's offsets.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from streamer.app import Pipeline, build_pipeline
from streamer.config import parse_config
from streamer.sandbox import SandboxServer, SandboxState
from streamer.testing import KafkaBroker
from streamer.testing._fakes import poison_values, sample_events

pytestmark = pytest.mark.kafka

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text) for sample in family.samples
    }


def _sum(samples: Samples, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def test_a_scrape_after_a_known_run_shows_what_happened(
    kafka_broker: KafkaBroker, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=2)
    kafka_broker.create_topic(f"{topic}.dlq", 1)
    events = list(sample_events(600, seed=11))
    kafka_broker.produce(topic, [orjson.dumps(e) for e in events])
    poison = poison_values()
    kafka_broker.produce(topic, list(poison.values()))
    ends = kafka_broker.end_offsets(topic)

    async def scenario() -> tuple[Samples, SandboxState, Pipeline]:
        sandbox = SandboxServer(SandboxState(ban=False, faults={"seed": 5, "rules": [
            {"kind": "request_error", "endpoints": ["track"], "count": 2},
            {"kind": "rate_limit", "endpoints": ["identify"], "count": 1, "retry_after": 0},
            {"kind": "item_error", "endpoints": ["track"], "status": 400, "rate": 0.05,
             "sticky": True},
        ]}))
        await sandbox.start()
        try:
            config = parse_config({
                "kafka": {"bootstrap_servers": kafka_broker.bootstrap_servers,
                          "topics": [topic], "group_id": "g-scrape",
                          "dead_letter_topic": f"{topic}.dlq", "commit_interval_ms": 100,
                          "session_timeout_ms": 6000, "start_from": "earliest"},
                "ortto": {"api_key": "pau-test-key", "endpoint": sandbox.url},
                "batching": {"max_items": 50, "linger_ms": 50},
                "delivery": {"backoff_initial_s": 0.05, "backoff_max_s": 0.2},
                "metrics": {"port": 0, "host": "127.0.0.1"},
            }, environ={})
            pipeline = await build_pipeline(
                config, consumer_overrides={"statistics.interval.ms": 200})
            task = asyncio.create_task(pipeline.run())
            try:
                samples = await _scrape_when_settled(pipeline, topic, ends)
            finally:
                pipeline.stop()
                await task
            return samples, sandbox.state, pipeline
        finally:
            await sandbox.stop()

    samples, state, pipeline = asyncio.run(scenario())
    tracks = sum(1 for e in events if e["type"] == "track")
    identifies = sum(1 for e in events if e["type"] == "identify")
    pages = sum(1 for e in events if e["type"] == "page")

    assert _sum(samples, "streamer_consumed_messages_total", topic=topic) == (
        len(events) + len(poison))
    assert _sum(samples, "streamer_filtered_messages_total") == pages
    refused = state.counters["track"].rejected  # items the sandbox refused with a 400
    assert refused > 0
    assert len(state.activities) == tracks - refused and len(state.contacts) == identifies
    delivered = {
        (dict(ls)["action"], dict(ls)["subscription"]): v for (n, ls), v in samples.items()
        if n == "streamer_delivered_items_total"
    }
    # The default subscriptions: one per action, each with its name.
    names = {n: a for (a, n) in delivered}
    assert len(names) == 2 and all(names) and sorted(names.values()) == [
        "trackActivity", "upsertContactProfile"]
    by_action = Counter({a: int(v) for (a, _n), v in delivered.items()})
    assert by_action == {"trackActivity": tracks - refused, "upsertContactProfile": identifies}

    dead = kafka_broker.consume_all(f"{topic}.dlq", min_count=len(poison) + refused)
    headers = Counter(
        "/".join((m.header(h) or b"").decode() for h in (
            "streamer.stage", "streamer.reason", "streamer.subscription"))
        for m in dead)
    counted = Counter({
        "/".join(dict(ls)[k] for k in ("stage", "reason", "subscription")): int(v)
        for (n, ls), v in samples.items() if n == "streamer_dead_letters_total" and v
    })
    assert counted == headers and sum(counted.values()) == len(poison) + refused
    # Decode-stage letters have no subscription; the refused track items have theirs.
    assert all(k.endswith("/") for k in counted if k.startswith("decode/"))
    track_name = next(n for n, a in names.items() if a == "trackActivity")
    assert counted[f"deliver/rejected/{track_name}"] == refused

    # Every request observed once by status class, failed ones included: what the sandbox
    # answered, endpoint by endpoint; its duration and its items too.
    for endpoint in ("identify", "track"):
        answered = Counter()
        for status, count in state.counters[endpoint].statuses.items():
            answered["429" if status == "429" else status[0] + "xx"] += count
        label = next(dict(ls)["endpoint"] for (n, ls) in samples
                     if n == "streamer_requests_total" and dict(ls)["endpoint"].endswith(
                         "/" + endpoint))
        for series in ("streamer_requests_total", "streamer_request_duration_seconds_count",
                       "streamer_batch_size_items_count"):
            seen = Counter({
                dict(ls).get("outcome", dict(ls).get("status_class")): int(v)
                for (n, ls), v in samples.items()
                if n == series and dict(ls)["endpoint"] == label and v
            })
            assert seen == answered, series
        # Items of answered requests: what the sandbox received (stored or refused).
        assert _sum(samples, "streamer_batch_size_items_sum", endpoint=label,
                    status_class="2xx") == state.counters[endpoint].items
    assert _sum(samples, "streamer_requests_total", outcome="5xx") == 2
    assert _sum(samples, "streamer_requests_total", outcome="429") == 1
    assert _sum(samples, "streamer_request_duration_seconds_count", status_class="5xx") == 2
    # Their items were counted too (a window holds 1 to batching.max_items of them).
    assert 2 <= _sum(samples, "streamer_batch_size_items_sum", status_class="5xx") <= 100
    assert _sum(samples, "streamer_delivery_latency_seconds_count") == (
        tracks - refused + identifies)

    for partition, end in ends.items():
        labels = {"topic": topic, "partition": str(partition)}
        assert _sum(samples, "streamer_committed_offset", **labels) == end
        assert _sum(samples, "streamer_consumer_lag_messages", **labels) == 0
        assert ("streamer_consumer_lag_seconds",
                frozenset({("topic", topic), ("partition", str(partition))})) in samples
        assert _sum(samples, "streamer_consumer_lag_seconds", **labels) == 0
        assert _sum(samples, "streamer_commit_holdback_offset", **labels) == -1
    assert _sum(samples, "streamer_ready") == 1
    assert _sum(samples, "streamer_key_refused") == 0
    assert _sum(samples, "streamer_pending_messages") == 0
    assert _sum(samples, "process_resident_memory_bytes") > 0
    assert pipeline.stats().delivered == tracks - refused + identifies


async def _scrape_when_settled(pipeline: Pipeline, topic: str,
                               ends: dict[int, int]) -> Samples:
    """Scrape until the run is over as the metrics see it (all committed, no lag left)."""
    deadline = time.monotonic() + 90
    samples: Samples = {}
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if pipeline.health is not None and pipeline.health.port:
                answer = await client.get(f"http://127.0.0.1:{pipeline.health.port}/metrics")
                samples = _parse(answer.text)
                settled = all(
                    _sum(samples, "streamer_committed_offset", topic=topic,
                         partition=str(p)) == end
                    and _sum(samples, "streamer_consumer_lag_messages", topic=topic,
                             partition=str(p)) == 0
                    and ("streamer_consumer_lag_messages",
                         frozenset({("topic", topic), ("partition", str(p))})) in samples
                    for p, end in ends.items()
                )
                if settled and _sum(samples, "streamer_pending_messages") == 0:
                    return samples
            await asyncio.sleep(0.1)
    raise AssertionError(f"the run did not settle in time; last scrape: {samples}")
