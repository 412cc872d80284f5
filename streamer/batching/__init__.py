"""Batching: one window per route, closed by size, bytes or linger; per-contact order in front."""

from ._batcher import Batch, Batcher
from ._ordering import ContactOrder

__all__ = ["Batch", "Batcher", "ContactOrder"]
