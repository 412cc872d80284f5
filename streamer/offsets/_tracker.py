"""Which offsets are safe to commit: what was dispatched, and what was confirmed.

Lifecycle of one consumed message, per assigned partition:

1. ``dispatch(offset, parts)``: the message was consumed and routed into ``parts`` pieces of
   work (one per matching subscription, or one dead-letter record). ``parts == 0`` means it was
   filtered: it is done at once and costs no allocation.
2. Each piece of work settles exactly once: the item was accepted by Ortto, skipped (loop
   prevention), or its dead-letter record was acknowledged by the broker. ``Ticket.settle()``.
3. When every piece has settled, the message is done.

The committable offset of a partition is the offset of the lowest message not yet done, or the
highest dispatched offset + 1 when none is pending. It never passes a message that is in flight,
however the batches complete (the fault faust-streaming/faust#606 had: guessing from gaps).

When a partition is revoked its state is sealed: late settlements of its tickets are ignored,
and a re-assignment starts from a fresh state, so an old generation can never move a new one.

Bytes: a ticket keeps its source message (for a dead letter) until the message is done, so each
ticket counts the bytes the message holds (value and key, plus :data:`MESSAGE_OVERHEAD` for the
objects around them), once, when it is created; ``pending_bytes`` is what the messages not yet
done hold (read by the pipeline's back-pressure against ``delivery.max_pending_bytes``).
Headers are not counted: reading them builds a list per message.

This module is pure bookkeeping: no Kafka, no clock of its own (times are passed in).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

__all__ = [
    "MESSAGE_OVERHEAD", "OffsetTracker", "PartitionOffsets", "Ticket", "TopicPartitionKey",
    "message_bytes", "settle_all",
]

TopicPartitionKey = tuple[str, int]
"""``(topic, partition)``: the one definition, used by the source, batching and the pipeline."""

MESSAGE_OVERHEAD = 400
"""Bytes a kept message holds besides its value and key, measured with tracemalloc on 4,000
consumed messages (confluent-kafka 2.16): about 230 for the ``Message`` (the object, its own
copy of the topic name, the value's ``bytes`` header), about 160 for its ticket (slots, the
``nbytes`` int, its place in the partition's deque), and the references to both in a batch."""


def message_bytes(message: Any) -> int:
    """What ``message`` holds while it is kept (0 for none: the tracker's own tests)."""
    if message is None:
        return 0
    value, key = message.value(), message.key()
    return MESSAGE_OVERHEAD + (len(value) if value else 0) + (len(key) if key else 0)


class Ticket:
    """One in-flight message: how many of its pieces of work are still open."""

    __slots__ = (
        "dispatched_at", "epoch", "message", "nbytes", "offset", "partition", "remaining",
    )

    def __init__(
        self,
        partition: PartitionOffsets,
        offset: int,
        remaining: int,
        dispatched_at: float,
        message: Any,
    ) -> None:
        self.partition = partition
        self.epoch = partition.epoch
        self.offset = offset
        self.remaining = remaining
        self.dispatched_at = dispatched_at
        self.message = message
        """The source message (key, value, headers) kept for dead-lettering."""
        self.nbytes = message_bytes(message)
        """What the kept message holds (counted in ``pending_bytes`` until it is done)."""

    def settle(self) -> None:
        """One piece of this message's work is done (delivered, skipped or dead-lettered)."""
        remaining = self.remaining - 1
        if remaining < 0:
            raise RuntimeError(f"offset {self.offset} settled more often than dispatched")
        self.remaining = remaining
        if remaining == 0:
            # Let the message go now: a done ticket may wait in the partition's queue behind
            # an older one still in flight, and its bytes no longer count as held.
            self.message = None
            self.partition._done(self)

    @property
    def done(self) -> bool:
        return self.remaining == 0


def settle_all(tickets: Sequence[Ticket], now_ms: float) -> list[float]:
    """Settle one piece of each ticket's work (a delivered request's items); return the age, in
    seconds from its Kafka timestamp to ``now_ms``, of each message that has one (0 for a
    timestamp in the future: clock skew). Read before settling: a done ticket lets its message
    go. One compiled loop, where reading, settling and measuring were three per item."""
    ages: list[float] = []
    for ticket in tickets:
        message = ticket.message
        if message is not None:
            kind, stamp = message.timestamp()
            if kind:  # 0: the message has no timestamp
                ages.append((now_ms - stamp) / 1000.0 if now_ms > stamp else 0.0)
        ticket.settle()
    return ages


class PartitionOffsets:
    """Bookkeeping of one assigned topic-partition (one generation of the assignment)."""

    __slots__ = (
        "_inflight", "_pending", "_pending_bytes", "committed", "epoch", "high", "key", "revoked",
    )

    def __init__(self, key: TopicPartitionKey, committed: int | None = None) -> None:
        self.key = key
        self._inflight: deque[Ticket] = deque()
        self._pending = 0
        self._pending_bytes = 0
        self.high = -1
        """Highest offset dispatched so far (-1: none)."""
        self.committed = committed
        """Last offset the broker confirmed as committed (next offset to read), if known."""
        self.revoked = False
        self.epoch = 0
        """Bumped by a seek backwards: tickets of an older epoch no longer count."""

    def dispatch(
        self, offset: int, parts: int, now: float = 0.0, message: Any = None
    ) -> Ticket | None:
        """Record a consumed message split into ``parts`` pieces; ``None`` when done at once."""
        if offset <= self.high:
            # A seek backwards (replay, reset): everything older is void for this generation.
            self._inflight.clear()
            self._pending = self._pending_bytes = 0
            self.epoch += 1
        self.high = offset
        if parts <= 0:
            return None
        ticket = Ticket(self, offset, parts, now, message)
        self._inflight.append(ticket)
        self._pending += 1
        self._pending_bytes += ticket.nbytes
        return ticket

    def _done(self, ticket: Ticket) -> None:
        if self.revoked or ticket.epoch != self.epoch:
            return
        self._pending -= 1
        self._pending_bytes -= ticket.nbytes
        inflight = self._inflight
        while inflight and inflight[0].remaining == 0:
            inflight.popleft()

    @property
    def pending(self) -> int:
        """Messages dispatched and not yet done."""
        return self._pending

    @property
    def pending_bytes(self) -> int:
        """Bytes held by the messages dispatched and not yet done."""
        return self._pending_bytes

    def committable(self) -> int | None:
        """The next offset to commit: never past a message that is not done."""
        if self._inflight:
            return self._inflight[0].offset
        if self.high >= 0:
            return self.high + 1
        return None

    def to_commit(self) -> int | None:
        """The committable offset if it moved past what was last committed, else ``None``."""
        offset = self.committable()
        if offset is None or (self.committed is not None and offset <= self.committed):
            return None
        return offset

    def holding_back(self) -> Ticket | None:
        """The oldest message not done (the one holding the commit watermark), if any."""
        return self._inflight[0] if self._inflight else None


class OffsetTracker:
    """All assigned partitions. Assignment changes replace whole partition states."""

    __slots__ = ("_partitions",)

    def __init__(self) -> None:
        self._partitions: dict[TopicPartitionKey, PartitionOffsets] = {}

    def assign(
        self,
        keys: Iterable[TopicPartitionKey],
        committed: dict[TopicPartitionKey, int] | None = None,
    ) -> None:
        """Start tracking ``keys``; ``committed``: the group's offsets for them, where known."""
        known = committed or {}
        for key in keys:
            old = self._partitions.get(key)
            if old is not None:
                old.revoked = True
            self._partitions[key] = PartitionOffsets(key, known.get(key))

    def revoke(
        self, keys: Iterable[TopicPartitionKey]
    ) -> dict[TopicPartitionKey, PartitionOffsets]:
        """Seal and forget these partitions; return their final states (to commit from)."""
        removed: dict[TopicPartitionKey, PartitionOffsets] = {}
        for key in keys:
            state = self._partitions.pop(key, None)
            if state is not None:
                state.revoked = True
                removed[key] = state
        return removed

    def get(self, topic: str, partition: int) -> PartitionOffsets | None:
        return self._partitions.get((topic, partition))

    def partition(self, topic: str, partition: int) -> PartitionOffsets:
        """The state of an assigned partition, created when a message arrives first."""
        key = (topic, partition)
        state = self._partitions.get(key)
        if state is None:
            state = self._partitions[key] = PartitionOffsets(key)
        return state

    def __iter__(self) -> Iterator[PartitionOffsets]:
        return iter(list(self._partitions.values()))

    def __len__(self) -> int:
        return len(self._partitions)

    @property
    def pending(self) -> int:
        """Messages dispatched and not yet done, over all partitions."""
        return sum(p.pending for p in self._partitions.values())

    @property
    def pending_bytes(self) -> int:
        """Bytes held by the messages not yet done, over all partitions."""
        return sum(p.pending_bytes for p in self._partitions.values())

    def to_commit(self) -> dict[TopicPartitionKey, int]:
        """Offsets that moved since the last commit, per partition."""
        out: dict[TopicPartitionKey, int] = {}
        for key, state in self._partitions.items():
            offset = state.to_commit()
            if offset is not None:
                out[key] = offset
        return out

    def mark_committed(self, offsets: dict[TopicPartitionKey, int]) -> None:
        """Offsets the broker confirmed; partitions no longer assigned are ignored."""
        for key, offset in offsets.items():
            state = self._partitions.get(key)
            if state is not None and (state.committed is None or offset > state.committed):
                state.committed = offset
