from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
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

    assert _samples(ours_registry) == _samples(theirs_registry)
    assert ours.count == len(values)


def _samples(registry: CollectorRegistry) -> list[str]:
    text = generate_latest(registry).decode()
    return sorted(line for line in text.splitlines()
                  if line.startswith("latency_seconds") and "_created" not in line)


BUCKETS = (0.05, 0.1, 0.5, 1.0, 10.0)
# Latencies as the sink computes them, bounds themselves included (a value equal to a bound is
# in that bound's bucket) and negative ones (a producer's clock ahead of ours).
_latency = st.one_of(st.sampled_from(BUCKETS), st.floats(-5, 1e6, allow_nan=False))


@given(st.lists(st.lists(_latency, max_size=40), max_size=6))
def test_batches_bin_as_one_observation_at_a_time(batches: list[list[float]]) -> None:
    theirs_registry, ours_registry = CollectorRegistry(), CollectorRegistry()
    theirs = Histogram("latency_seconds", "doc", buckets=BUCKETS, registry=theirs_registry)
    ours = BulkHistogram("latency_seconds", "doc", BUCKETS, ours_registry)
    for batch in batches:
        for value in batch:
            theirs.observe(value)
        ours.observe_many(batch)
    ours_lines, theirs_lines = _samples(ours_registry), _samples(theirs_registry)
    # Counts exactly; the sum to float rounding (added in another order).
    assert [line for line in ours_lines if "_sum" not in line] == [
        line for line in theirs_lines if "_sum" not in line]
    ours_sum = float(next(line for line in ours_lines if "_sum" in line).split()[1])
    theirs_sum = float(next(line for line in theirs_lines if "_sum" in line).split()[1])
    assert abs(ours_sum - theirs_sum) <= 1e-9 * max(1.0, sum(abs(v) for b in batches for v in b))
    assert ours.count == sum(map(len, batches))
