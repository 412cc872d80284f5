"""Windows of items, one per route (subscription), sent by size, bytes or age.

Segment gathers a destination's events per subscription, so streamer opens one window per route:
the items of one request then share an action, a mapping and an audience. A window is closed
(becomes a :class:`Batch`) when it holds ``max_items`` items, when the next item would pass
``max_bytes`` of request body, or when it has been open ``linger`` seconds.

Items enter already serialised (JSON bytes), so the body of a request is one join, a batch can
be split in halves on a 413 without serialising again, and the byte limit is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..offsets import Ticket, TopicPartitionKey
from ..routing._types import Route

__all__ = ["Batch", "Batcher"]


class Batch:
    """Items of one route on their way to Ortto, with the tickets of their source messages."""

    __slots__ = (
        "attempts", "contacts", "first_failure", "items", "nbytes", "opened_at", "route",
        "tickets",
    )

    def __init__(self, route: Route, opened_at: float) -> None:
        self.route = route
        self.items: list[bytes] = []
        self.tickets: list[Ticket] = []
        self.contacts: list[str | None] = []
        """Per item, its contact when it is ordered (see ``_ordering.py``), else None."""
        self.nbytes = 1  # "[" and "]", less the comma the first item does not need
        self.opened_at = opened_at
        self.attempts = 0
        self.first_failure: float | None = None

    def __len__(self) -> int:
        return len(self.items)

    def append(self, item: bytes, ticket: Ticket, contact: str | None = None) -> None:
        self.items.append(item)
        self.tickets.append(ticket)
        self.contacts.append(contact)
        self.nbytes += len(item) + 1

    def body(self) -> bytes:
        # The brackets ride on the first and last items, so that the items are copied once
        # (by the join), not three times (join, then "[" +, then + "]"): a request is
        # hundreds of KB.
        items = self.items
        if len(items) < 2:
            return b"[" + (items[0] if items else b"") + b"]"
        parts = list(items)
        parts[0] = b"[" + parts[0]
        parts[-1] = parts[-1] + b"]"
        return b",".join(parts)

    def subset(self, indexes: Iterable[int]) -> Batch:
        """A new batch of some of these items (for retrying or splitting), same history."""
        part = Batch(self.route, self.opened_at)
        part.attempts = self.attempts
        part.first_failure = self.first_failure
        items, tickets, contacts = self.items, self.tickets, self.contacts
        for i in indexes:
            part.append(items[i], tickets[i], contacts[i])
        return part

    def halves(self) -> tuple[Batch, Batch]:
        middle = len(self.items) // 2
        return self.subset(range(middle)), self.subset(range(middle, len(self.items)))

    def revoked_indexes(self) -> list[int]:
        """The items whose source partitions are no longer assigned here (this generation)."""
        return [i for i, t in enumerate(self.tickets)
                if t.partition.revoked or t.epoch != t.partition.epoch]

    def without(self, indexes: Sequence[int]) -> Batch:
        """A new batch of the other items (self if ``indexes`` is empty)."""
        if not indexes:
            return self
        drop = set(indexes)
        return self.subset(i for i in range(len(self.items)) if i not in drop)

    def partition_indexes(self, keys: set[TopicPartitionKey]) -> list[int]:
        """The items whose source partitions are among ``keys``."""
        return [i for i, t in enumerate(self.tickets) if t.partition.key in keys]


class Batcher:
    """Open windows; the caller sends what :meth:`take_ready` and :meth:`due` return."""

    __slots__ = (
        "_clock", "_limits", "_linger", "_max_bytes", "_max_items", "_route_limit", "_windows",
        "ready", "waiting",
    )

    def __init__(
        self,
        *,
        max_items: int,
        max_bytes: int,
        linger_s: float,
        clock: Callable[[], float],
        route_limit: Callable[[Route], int] | None = None,
    ) -> None:
        self._max_items = max_items
        self._route_limit = route_limit
        """A route's own limit (its mapping's ``batch_size``); the window takes the lower."""
        self._limits: dict[int, int] = {}
        self._max_bytes = max_bytes
        self._linger = linger_s
        self._clock = clock
        self._windows: dict[int, Batch] = {}
        self.waiting = 0
        """Items sitting in open windows."""
        self.ready: list[Batch] = []

    def add(self, route: Route, item: bytes, ticket: Ticket, contact: str | None = None) -> None:
        """Put one item in its route's window; closed windows go to :attr:`ready`."""
        window = self._windows.get(route.index)
        if window is not None and window.nbytes + len(item) + 1 > self._max_bytes:
            self.ready.append(self._close(route.index))
            window = None
        if window is None:
            window = self._windows[route.index] = Batch(route, self._clock())
        window.append(item, ticket, contact)
        self.waiting += 1
        limit = self._limits.get(route.index)
        if limit is None:
            limit = self._max_items
            if self._route_limit is not None:
                limit = max(1, min(limit, self._route_limit(route)))
            self._limits[route.index] = limit
        if len(window.items) >= limit:
            self.ready.append(self._close(route.index))

    @property
    def empty(self) -> bool:
        """No item in an open window nor in a closed one not yet taken."""
        return not self._windows and not self.ready

    def fits(self, item: bytes) -> bool:
        """Whether ``item`` can travel at all: a request of it alone stays within the bytes."""
        return len(item) <= self.max_item_bytes

    @property
    def max_item_bytes(self) -> int:
        """The largest item that fits a request alone (``[`` and ``]`` around it)."""
        return self._max_bytes - 2

    def take_ready(self) -> list[Batch]:
        """Batches closed by size or bytes since the last call."""
        ready, self.ready = self.ready, []
        return ready

    def due(self, now: float | None = None) -> list[Batch]:
        """Windows open for ``linger`` or longer."""
        if not self._windows:
            return []
        now = self._clock() if now is None else now
        limit = now - self._linger
        keys = [k for k, w in self._windows.items() if w.opened_at <= limit]
        return [self._close(k) for k in keys]

    def drain(self) -> list[Batch]:
        """Every closed and open window, whatever its age (shutdown)."""
        return self.take_ready() + [self._close(k) for k in list(self._windows)]

    def next_deadline(self) -> float | None:
        if not self._windows:
            return None
        return min(w.opened_at for w in self._windows.values()) + self._linger

    def wait_s(self, now: float | None = None, *, at_least: float = 0.001) -> float | None:
        """Seconds until the first window's linger is over (``None``: no window is open), at
        least ``at_least``: a caller that waits for input meanwhile closes it on time, and an
        overdue window does not make it spin."""
        deadline = self.next_deadline()
        if deadline is None:
            return None
        now = self._clock() if now is None else now
        return max(at_least, deadline - now)

    def discard(self, keys: set[TopicPartitionKey]) -> list[tuple[Batch, list[int]]]:
        """Drop waiting items of revoked partitions (their next owner redoes them); returns
        the dropped items, by the batch they were in (the ordering gate confirms them)."""
        dropped: list[tuple[Batch, list[int]]] = []
        for index in list(self._windows):
            window = self._windows[index]
            gone = window.partition_indexes(keys)
            if not gone:
                continue
            dropped.append((window, gone))
            self.waiting -= len(gone)
            kept = window.without(gone)
            if kept.items:
                self._windows[index] = kept
            else:
                del self._windows[index]
        ready: list[Batch] = []
        for closed in self.ready:
            gone = closed.partition_indexes(keys)
            if gone:
                dropped.append((closed, gone))
            kept = closed.without(gone)
            if kept.items:
                ready.append(kept)
        self.ready = ready
        return dropped

    def _close(self, index: int) -> Batch:
        batch = self._windows.pop(index)
        self.waiting -= len(batch.items)
        return batch

    def windows(self) -> dict[int, Any]:
        """Open windows by route index (read-only view for tests and metrics)."""
        return dict(self._windows)
