from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from streamer.observability._bulk import BulkHistogram


def test_exposes_the_same_as_a_prometheus_histogram() -> None:
    values = [0.01, 0.05, 0.05, 0.3, 2.0, 7.0, 5000.0, 0.0]
    buckets = (0.05, 0.1, 0.5, 1, 10)
    theirs_registry, ours_registry = CollectorRegistry(), CollectorRegistry()
    theirs = Histogram("latency_seconds", "doc", buckets=buckets, registry=theirs_registry)
    for value in values:
        theirs.observe(value)
    ours = BulkHistogram("latency_seconds", "doc", buckets, ours_registry)
    ours.observe_many(values[:5])
    for value in values[5:]:
        ours.observe(value)

    def samples(registry: CollectorRegistry) -> list[str]:
        text = generate_latest(registry).decode()
        return sorted(line for line in text.splitlines()
                      if line.startswith("latency_seconds") and "_created" not in line)

    assert samples(ours_registry) == samples(theirs_registry)
    assert ours.count == len(values)
