"""Batching: one window per route, closed by size, bytes or linger."""

from ._batcher import Batch, Batcher

__all__ = ["Batch", "Batcher"]
