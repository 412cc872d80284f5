"""Prometheus metrics of one pipeline. Every metric lives in the registry given (tests pass a
fresh ``CollectorRegistry``; the process uses its own, never the global default), together with
the process collector (memory, CPU, file descriptors) of that registry.

Names follow Prometheus' conventions: base units as suffixes (``_seconds``), counters end in
``_total`` (``prometheus_client`` appends it to a ``Counter``'s name), and gauges without a unit
are named for what they count (``_messages``, ``_items``, ``_requests``). The README's metrics
table lists every one; a new metric follows the same rules.

Label values are bounded: endpoints and actions are fixed, subscriptions come from the
configuration, status classes are ``2xx``, ``4xx``, ``429``, ``5xx`` and ``error`` (no HTTP
answer). Hot paths take label children from small caches here (:meth:`Metrics.request`,
:meth:`Metrics.dead_letter`), one dict lookup instead of ``labels()`` for each observation.
"""

from __future__ import annotations

from typing import NamedTuple

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

from ._bulk import BulkHistogram

__all__ = ["FILTERED_REASONS", "STATUS_CLASSES", "Metrics", "RequestSeries"]

FILTERED_REASONS = ("no_subscription", "integrations")
"""The ``reason`` label values of ``streamer_filtered_messages_total``."""

STATUS_CLASSES = ("2xx", "4xx", "429", "5xx", "error")
"""The ``status_class`` / ``outcome`` label values of the request metrics (``error``: no HTTP
answer: a timeout, a connection error)."""

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_E2E_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
_BATCH_BUCKETS = (1, 5, 10, 25, 50, 100, 200, 300, 400, 500)


class RequestSeries(NamedTuple):
    """The three series one request to Ortto updates (one endpoint and status class)."""

    total: Counter
    duration: Histogram
    items: Histogram


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        self.consumed = Counter(
            "streamer_consumed_messages_total", "Messages consumed from Kafka.", ["topic"],
            registry=r,
        )
        self.filtered = Counter(
            "streamer_filtered_messages_total",
            "Messages done at once, not sent: they matched no trigger (reason no_subscription) "
            "or their integrations object turns this destination off (reason integrations).",
            ["reason"], registry=r,
        )
        for reason in FILTERED_REASONS:
            self.filtered.labels(reason)  # both series exist from the start, at 0
        self.delivered = Counter(
            "streamer_delivered_items_total",
            "Items accepted by Ortto, by action and subscription.",
            ["action", "subscription"], registry=r,
        )
        self.skipped = Counter(
            "streamer_skipped_items_total",
            "Items not sent but counted delivered (loop prevention).", ["action"], registry=r,
        )
        self.rejected = Counter(
            "streamer_dead_letters_total",
            "Dead-letter records written (one per item or undecodable message); subscription is "
            "empty for the decode stage.",
            ["stage", "reason", "subscription"], registry=r,
        )
        self.retried = Counter(
            "streamer_retried_items_total", "Items scheduled to be sent again.", ["reason"],
            registry=r,
        )
        self.requests = Counter(
            "streamer_requests_total",
            "Requests to Ortto by endpoint and outcome (status class; error: no HTTP answer).",
            ["endpoint", "outcome"], registry=r,
        )
        self.committed_offsets = Counter(
            "streamer_commits_total",
            "Offset commits answered by the broker, by kind (async: periodic; sync: revocation "
            "and shutdown) and result (ok; failed: at least one partition refused).",
            ["kind", "result"], registry=r,
        )
        self.batch_size = Histogram(
            "streamer_batch_size_items",
            "Items per request to Ortto, every request (failed ones included) by status class.",
            ["endpoint", "status_class"], buckets=_BATCH_BUCKETS, registry=r,
        )
        self.request_latency = Histogram(
            "streamer_request_duration_seconds",
            "Duration of a request to Ortto, every request (failed ones included) by status "
            "class.",
            ["endpoint", "status_class"], buckets=_LATENCY_BUCKETS, registry=r,
        )
        self.end_to_end = BulkHistogram(
            "streamer_delivery_latency_seconds",
            "Kafka timestamp of a message to Ortto's acknowledgement of its item.",
            buckets=_E2E_BUCKETS, registry=r,
        )
        self.in_flight_items = Gauge(
            "streamer_in_flight_items", "Items waiting in windows or being delivered.",
            registry=r,
        )
        self.pending_messages = Gauge(
            "streamer_pending_messages", "Messages consumed and not yet done.", registry=r
        )
        self.pending_bytes = Gauge(
            "streamer_pending_bytes",
            "Bytes held for work not yet done (source messages kept until done, items in "
            "windows and in flight, dead-letter records not yet acknowledged, messages waiting "
            "for a schema), counted against delivery.max_pending_bytes; librdkafka's prefetch "
            "is bounded on its own.",
            registry=r,
        )
        self.committed_offset = Gauge(
            "streamer_committed_offset", "Last committed offset.", ["topic", "partition"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            "streamer_consumer_lag_messages",
            "Messages from the first one not yet done (the commit point) to the partition's end.",
            ["topic", "partition"], registry=r,
        )
        self.consumer_lag_seconds = Gauge(
            "streamer_consumer_lag_seconds",
            "How far behind the commit point is in time: now minus the Kafka timestamp of the "
            "oldest message not done; with none pending, now minus the timestamp of the last "
            "message dispatched if the partition has messages beyond it, else 0.",
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
        self.ordering_held = Gauge(
            "streamer_ordering_held_items",
            "Items held for per-contact ordering: waiting until their contact's earlier item "
            "on the same endpoint is confirmed.", registry=r,
        )
        self.partitions_paused_alone = Gauge(
            "streamer_ordering_paused_partitions",
            "Partitions paused on their own because their items held for ordering passed "
            "delivery.ordering_pause_share of delivery.max_pending_items (a hot contact).",
            registry=r,
        )
        self.key_refused = Gauge(
            "streamer_key_refused",
            "1 while Ortto refuses the API key (401/403): delivery and consumption wait.",
            registry=r,
        )
        self.ready = Gauge("streamer_ready", "1 when assigned and able to deliver.", registry=r)
        self.rate_share = Gauge(
            "streamer_rate_share_ratio",
            "This process's share of delivery.rate_per_s: its assigned partitions out of all "
            "partitions of its topics (one partition's share when it has none).",
            registry=r,
        )
        self.rate_limit = Gauge(
            "streamer_rate_limit_requests_per_second",
            "Requests per second this process may send to Ortto now, every endpoint together "
            "(+Inf: no delivery.rate_per_s).",
            registry=r,
        )
        self.concurrency_limit = Gauge(
            "streamer_concurrency_limit_requests",
            "Current adaptive limit of requests in flight, per Ortto endpoint.",
            ["endpoint"], registry=r,
        )
        self._requests: dict[tuple[str, str], RequestSeries] = {}
        self._dead_letters: dict[tuple[str, str, str], Counter] = {}

    def request(self, endpoint: str, status_class: str) -> RequestSeries:
        """The series of one request's endpoint and status class (cached)."""
        key = (endpoint, status_class)
        series = self._requests.get(key)
        if series is None:
            series = self._requests[key] = RequestSeries(
                self.requests.labels(endpoint, status_class),
                self.request_latency.labels(endpoint, status_class),
                self.batch_size.labels(endpoint, status_class),
            )
        return series

    def dead_letter(self, stage: str, reason: str, subscription: str) -> Counter:
        """The dead-letter counter child of one stage, reason and subscription (cached)."""
        key = (stage, reason, subscription)
        child = self._dead_letters.get(key)
        if child is None:
            child = self._dead_letters[key] = self.rejected.labels(stage, reason, subscription)
        return child
