"""Observability: Prometheus metrics, the health endpoints, the log format, and log lines that
stay readable (summaries of per-message events, librdkafka's messages throttled)."""

from ._kafka_log import KafkaLogThrottle, kafka_logger
from ._logging import CONTEXT_FIELDS, JsonFormatter, TextFormatter, configure_logging
from ._metrics import FILTERED_REASONS, STATUS_CLASSES, Metrics, RequestSeries
from ._server import HealthServer
from ._summary import LogSummariser
from ._vitals import ClusterProbe, Heartbeats

__all__ = [
    "CONTEXT_FIELDS",
    "FILTERED_REASONS",
    "STATUS_CLASSES",
    "ClusterProbe",
    "HealthServer",
    "Heartbeats",
    "JsonFormatter",
    "KafkaLogThrottle",
    "LogSummariser",
    "Metrics",
    "RequestSeries",
    "TextFormatter",
    "configure_logging",
    "kafka_logger",
]
