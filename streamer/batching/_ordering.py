"""Per-contact order: for each endpoint, at most one unconfirmed item per contact.

Kafka keeps a user's events in order; several requests in flight, partial answers and retries
do not. Ortto applies an upsert when its request completes, so a contact's older item that
completes after a newer one leaves the contact on old values. The gate sits between the
dispatcher and the windows (:class:`~streamer.batching.Batcher`) and keeps Kafka's order per
contact without holding anyone else up.

Lifecycle of one item of contact C on endpoint E (C is the item's ``user_id``, else its
``anonymous_id``; an item with neither is not ordered):

1. :meth:`ContactOrder.add`: if C has no unconfirmed item on E, the item goes to its window
   at once and C becomes *busy* on E. Otherwise it is *held*, behind C's earlier items, in
   arrival order.
2. The item travels (window, request, retries, a 413 split: each request carries at most one
   item of C, so no answer can reorder C's items, and a retry goes before C's later items).
3. :meth:`ContactOrder.confirmed`: the item's fate is known (accepted, refused for good and
   dead-lettered, or dropped because its partition was revoked). C's next held item goes to
   its window (into the current window of its route, which fills requests as full as the
   waiting items allow); with none held, C is no longer busy.

Held items are not lost work: their messages stay unsettled in the offset tracker, so commits
never pass them, and they count towards the pending limits (:attr:`held`,
:attr:`held_bytes`). :attr:`held_by_partition` lets the pipeline pause one partition whose
held items pile up (a hot contact: a shared anonymousId, a bot) while the others flow. On
revocation, :meth:`discard` drops the held items of the revoked partitions: their next owner
consumes those messages again from the last commit.

The order covers one process and one endpoint: a contact's identify and track items go to
different endpoints and do not wait for each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from ..offsets import Ticket, TopicPartitionKey
from ..routing._types import Route

if TYPE_CHECKING:
    from ._batcher import Batch

__all__ = ["ContactOrder"]

_Held = tuple[Route, bytes, Ticket]
AddToWindow = Callable[[Route, bytes, Ticket, "str | None"], None]


class ContactOrder:
    """The per-contact gate in front of the windows."""

    __slots__ = ("_add", "_lanes", "held", "held_by_partition", "held_bytes", "releases")

    def __init__(self, add: AddToWindow) -> None:
        self._add = add
        # Per endpoint path: contact -> its held items (None: busy, nothing held). A contact
        # absent from the dict has nothing unconfirmed on that endpoint. A list, not a deque:
        # most contacts hold one or two items, and an empty deque is 760 bytes (a list 56),
        # tens of thousands of them under a backlog; its front pops are O(n), and n is bounded
        # by the partition's pause (``delivery.ordering_pause_share``).
        self._lanes: dict[str, dict[str, list[_Held] | None]] = {}
        self.held = 0
        """Items waiting behind an earlier item of their contact."""
        self.held_bytes = 0
        """Serialised bytes of the held items."""
        self.held_by_partition: dict[TopicPartitionKey, int] = {}
        """Held items per source partition (only partitions with some)."""
        self.releases = 0
        """Held items sent to their window so far (a revocation watches it)."""

    def add(self, route: Route, item: bytes, ticket: Ticket, contact: str | None) -> None:
        """Send ``item`` to its window, or hold it behind its contact's unconfirmed item."""
        if not contact:
            self._add(route, item, ticket, None)
            return
        lane = self._lanes.get(route.path)
        if lane is None:
            lane = self._lanes[route.path] = {}
        if contact not in lane:
            lane[contact] = None
            self._add(route, item, ticket, contact)
            return
        queue = lane[contact]
        if queue is None:
            lane[contact] = [(route, item, ticket)]
        else:
            queue.append((route, item, ticket))
        self.held += 1
        self.held_bytes += len(item)
        key = ticket.partition.key
        self.held_by_partition[key] = self.held_by_partition.get(key, 0) + 1

    def confirmed(self, batch: Batch, indexes: Sequence[int] | None) -> None:
        """The fate of these items of ``batch`` is known (``None``: all of them)."""
        contacts = batch.contacts
        path = batch.route.path
        if indexes is None:
            for contact in contacts:
                if contact:
                    self._next(path, contact)
        else:
            for index in indexes:
                contact = contacts[index]
                if contact:
                    self._next(path, contact)

    def confirmed_one(self, path: str, contact: str | None) -> None:
        if contact:
            self._next(path, contact)

    def _next(self, path: str, contact: str) -> None:
        lane = self._lanes.get(path)
        if lane is None or contact not in lane:
            return  # not ordered here (for example dropped by a revocation already)
        queue = lane[contact]
        while queue:
            route, item, ticket = queue.pop(0)
            self._unhold(item, ticket)
            if ticket.partition.revoked or ticket.epoch != ticket.partition.epoch:
                continue  # its partition's next owner redoes it from the last commit
            if not queue:
                lane[contact] = None
            self.releases += 1
            self._add(route, item, ticket, contact)
            return
        del lane[contact]

    def _unhold(self, item: bytes, ticket: Ticket) -> None:
        self.held -= 1
        self.held_bytes -= len(item)
        key = ticket.partition.key
        left = self.held_by_partition[key] - 1
        if left:
            self.held_by_partition[key] = left
        else:
            del self.held_by_partition[key]

    def discard(self, keys: set[TopicPartitionKey]) -> dict[TopicPartitionKey, int]:
        """Drop the held items of revoked partitions (their next owner redoes them); returns,
        per partition, the first offset dropped."""
        first: dict[TopicPartitionKey, int] = {}
        if not any(k in self.held_by_partition for k in keys):
            return first
        for lane in self._lanes.values():
            for contact, queue in list(lane.items()):
                if not queue:
                    continue
                kept: list[_Held] = []
                for entry in queue:
                    ticket = entry[2]
                    key = ticket.partition.key
                    if key in keys:
                        self._unhold(entry[1], ticket)
                        if ticket.offset < first.get(key, ticket.offset + 1):
                            first[key] = ticket.offset
                    else:
                        kept.append(entry)
                lane[contact] = kept or None
        return first

    @property
    def held_items(self) -> int:
        """:attr:`held`, as back-pressure reads a holder."""
        return self.held

    def busy(self, path: str) -> int:
        """Contacts with an unconfirmed item on ``path`` (for tests and diagnostics)."""
        return len(self._lanes.get(path, ()))

    def hot_partitions(self, limit: int) -> Iterable[TopicPartitionKey]:
        """Partitions holding more than ``limit`` items for ordering."""
        return [k for k, n in self.held_by_partition.items() if n > limit]
