"""Observability: Prometheus metrics, the health endpoints and the log format."""

from ._logging import CONTEXT_FIELDS, JsonFormatter, TextFormatter, configure_logging
from ._metrics import Metrics
from ._server import HealthServer

__all__ = [
    "CONTEXT_FIELDS",
    "HealthServer",
    "JsonFormatter",
    "Metrics",
    "TextFormatter",
    "configure_logging",
]
