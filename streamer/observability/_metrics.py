"""Prometheus metrics of one pipeline. Every metric lives in the registry given (tests pass a
fresh ``CollectorRegistry``; the process uses its own, never the global default)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ._bulk import BulkHistogram

__all__ = ["FILTERED_REASONS", "Metrics"]

FILTERED_REASONS = ("no_subscription", "integrations")
"""The ``reason`` label values of ``streamer_filtered_total``."""

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_E2E_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
_BATCH_BUCKETS = (1, 5, 10, 25, 50, 100, 200, 300, 400, 500)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.consumed = Counter(
            "streamer_consumed", "Messages consumed from Kafka.", ["topic"], registry=r
        )
        self.filtered = Counter(
            "streamer_filtered",
            "Messages done at once, not sent: they matched no trigger (reason no_subscription) "
            "or their integrations object turns this destination off (reason integrations).",
            ["reason"], registry=r,
        )
        for reason in FILTERED_REASONS:
            self.filtered.labels(reason)  # both series exist from the start, at 0
        self.delivered = Counter(
            "streamer_delivered", "Items accepted by Ortto.", ["action"], registry=r
        )
        self.skipped = Counter(
            "streamer_skipped", "Items not sent but counted delivered (loop prevention).",
            ["action"], registry=r,
        )
        self.rejected = Counter(
            "streamer_rejected", "Items or messages dead-lettered.", ["stage", "reason"],
            registry=r,
        )
        self.retried = Counter(
            "streamer_retried", "Items scheduled to be sent again.", ["reason"], registry=r
        )
        self.requests = Counter(
            "streamer_requests", "Requests to Ortto by endpoint and outcome.",
            ["endpoint", "outcome"], registry=r,
        )
        self.committed_offsets = Counter(
            "streamer_commits", "Offset commits made.", ["kind"], registry=r
        )
        self.batch_size = Histogram(
            "streamer_batch_size", "Items per request.", buckets=_BATCH_BUCKETS, registry=r
        )
        self.request_latency = Histogram(
            "streamer_request_latency_seconds", "Ortto request latency.", ["endpoint"],
            buckets=_LATENCY_BUCKETS, registry=r,
        )
        self.end_to_end = BulkHistogram(
            "streamer_end_to_end_seconds", "Kafka timestamp to Ortto acknowledgement.",
            buckets=_E2E_BUCKETS, registry=r,
        )
        self.in_flight_items = Gauge(
            "streamer_in_flight_items", "Items waiting in windows or being delivered.",
            registry=r,
        )
        self.pending_messages = Gauge(
            "streamer_pending_messages", "Messages consumed and not yet done.", registry=r
        )
        self.committed_offset = Gauge(
            "streamer_committed_offset", "Last committed offset.", ["topic", "partition"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            "streamer_consumer_lag",
            "Messages from the first one not yet done (the commit point) to the partition's end.",
            ["topic", "partition"], registry=r,
        )
        self.holdback_offset = Gauge(
            "streamer_commit_holdback_offset",
            "Offset of the oldest unfinished message holding back the commit (-1: none).",
            ["topic", "partition"], registry=r,
        )
        self.holdback_seconds = Gauge(
            "streamer_commit_holdback_seconds",
            "Age of the oldest message holding back the commit watermark.",
            ["topic", "partition"], registry=r,
        )
        self.paused = Gauge(
            "streamer_paused", "1 while consumption is paused (back-pressure or key refused).",
            registry=r,
        )
        self.ready = Gauge("streamer_ready", "1 when assigned and able to deliver.", registry=r)
        self.concurrency_limit = Gauge(
            "streamer_concurrency_limit",
            "Current adaptive limit of requests in flight, per Ortto endpoint.",
            ["endpoint"], registry=r,
        )
