"""Observability: Prometheus metrics, the health endpoints, and log lines that stay readable
(summaries of per-message events, librdkafka's messages throttled)."""

from ._kafka_log import KafkaLogThrottle, kafka_logger
from ._metrics import Metrics
from ._server import HealthServer
from ._summary import LogSummariser
from ._vitals import ClusterProbe, Heartbeats

__all__ = [
    "ClusterProbe",
    "HealthServer",
    "Heartbeats",
    "KafkaLogThrottle",
    "LogSummariser",
    "Metrics",
    "kafka_logger",
]
