"""Observability: Prometheus metrics and the health endpoints."""

from ._metrics import Metrics
from ._server import HealthServer

__all__ = ["HealthServer", "Metrics"]
