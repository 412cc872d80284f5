"""Observability: Prometheus metrics and the health endpoints."""

from ._metrics import FILTERED_REASONS, Metrics
from ._server import HealthServer

__all__ = ["FILTERED_REASONS", "HealthServer", "Metrics"]
