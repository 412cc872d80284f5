"""Offsets: what was dispatched, what was confirmed, and what may be committed."""

from ._checkpoint import Checkpoint, CommitResult
from ._tracker import OffsetTracker, PartitionOffsets, Ticket, TopicPartitionKey

__all__ = [
    "Checkpoint",
    "CommitResult",
    "OffsetTracker",
    "PartitionOffsets",
    "Ticket",
    "TopicPartitionKey",
]
