"""Offsets: what was dispatched, what was confirmed, and what may be committed."""

from ._checkpoint import Checkpoint, CommitResult
from ._tracker import (
    MESSAGE_OVERHEAD,
    OffsetTracker,
    PartitionOffsets,
    Ticket,
    TopicPartitionKey,
    message_bytes,
    settle_all,
)

__all__ = [
    "MESSAGE_OVERHEAD",
    "Checkpoint",
    "CommitResult",
    "OffsetTracker",
    "PartitionOffsets",
    "Ticket",
    "TopicPartitionKey",
    "message_bytes",
    "settle_all",
]
