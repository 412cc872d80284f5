"""What a change of assignment does to the pipeline's work (the source's RebalanceHandler).

Assigned: the tracker starts a fresh state per partition, from the group's committed offsets.

Revoked (not lost, the loop still running):

1. open windows are sent at once, so that their items get the revoke deadline too;
2. items held for per-contact ordering on the revoked partitions are dropped: never sent, the
   partition's next owner reads them again. The commit cannot pass the first of them, so there
   is no waiting for what comes after it;
3. wait, up to ``delivery.revoke_grace_s``, until every message before that point is done
   (dead-letter acknowledgements polled; held items of other partitions released meanwhile are
   sent as well);
4. what still waits in windows is dropped (its contacts' next items released), the schema gate
   forgets the partitions, and the offsets done are returned: the source commits them
   synchronously before the partitions go.

Lost (the group moved on without us), or the loop has ended (shutdown spent its grace already;
after a fatal error nothing more is sent): only step 4, and nothing is committed when lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..batching import Batch, Batcher, ContactOrder
from ..deadletter import DeadLetterWriter
from ..offsets import OffsetTracker, PartitionOffsets, TopicPartitionKey
from ..source import Decoding

__all__ = ["Rebalance"]


class Rebalance:
    def __init__(
        self,
        *,
        tracker: OffsetTracker,
        batcher: Batcher,
        order: ContactOrder | None,
        decoding: Decoding,
        dead_letter: DeadLetterWriter,
        send: Callable[[list[Batch]], None],
        grace_s: float,
        clock: Callable[[], float],
    ) -> None:
        self._tracker = tracker
        self._batcher = batcher
        self._order = order
        self._decoding = decoding
        self._dead_letter = dead_letter
        self._send = send
        self._grace_s = grace_s
        self._clock = clock

    async def assigned(
        self, keys: list[TopicPartitionKey], committed: dict[TopicPartitionKey, int]
    ) -> None:
        self._tracker.assign(keys, committed)

    async def revoked(
        self, keys: list[TopicPartitionKey], *, lost: bool, running: bool
    ) -> dict[TopicPartitionKey, int]:
        keyset = set(keys)
        if not lost and running:
            await self._finish(keys, keyset)
        self._dead_letter.poll()
        dropped = self._batcher.discard(keyset)
        if self._order is not None:
            self._order.discard(keyset)
            for batch, indexes in dropped:
                self._order.confirmed(batch, indexes)
        self._decoding.discard(keyset)
        states = self._tracker.revoke(keys)
        if lost:
            return {}
        # Past the confirmed commit, a failed one included: the last chance to commit these.
        return {k: o for k, s in states.items() if (o := s.to_commit()) is not None}

    async def _finish(self, keys: list[TopicPartitionKey], keyset: set[TopicPartitionKey]) -> None:
        order, tracker = self._order, self._tracker
        self._send(self._batcher.drain())
        first_held = order.discard(keyset) if order is not None else {}
        released = order.releases if order is not None else 0
        deadline = self._clock() + self._grace_s
        while self._clock() < deadline and any(
            _worth_waiting(tracker.get(*k), first_held.get(k)) for k in keys
        ):
            if order is not None and order.releases != released:
                released = order.releases
                self._send(self._batcher.drain())
            self._dead_letter.poll()
            await asyncio.sleep(0.01)


def _worth_waiting(state: PartitionOffsets | None, first_held: int | None) -> bool:
    """Whether waiting can still move a revoked partition's commit: some message before the
    first one held for ordering (dropped, never sent) is not done yet."""
    if state is None or not state.pending:
        return False
    oldest = state.holding_back()
    return oldest is not None and (first_held is None or oldest.offset < first_held)
