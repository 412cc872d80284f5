"""A checkpoint: the numbered steps that make a commit safe.

Run periodically (asynchronous commit) and at revoke and shutdown (synchronous commit):

1. Poll the dead-letter producer, so broker acknowledgements settle their messages.
2. Raise a latched dead-letter failure: a reject that was not written must never be committed
   past; processing stops instead.
3. Ask the tracker which partitions' committable offsets moved since the last commit.
4. Commit them, and remember what was committed.

The committer and the dead-letter side are protocols, so the steps are tested without Kafka.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from ._tracker import OffsetTracker, TopicPartitionKey

__all__ = ["Checkpoint", "CommitResult", "DeadLetterSide"]

Committer = Callable[[dict[TopicPartitionKey, int], bool], Awaitable[None]]
"""``commit(offsets, asynchronous)``; raises on failure of a synchronous commit."""


class DeadLetterSide(Protocol):
    def poll(self) -> None: ...

    def raise_if_failed(self) -> None: ...


@dataclass(slots=True)
class CommitResult:
    offsets: dict[TopicPartitionKey, int] = field(default_factory=dict)
    synchronous: bool = False


class Checkpoint:
    __slots__ = ("_commit", "_dead_letter", "_on_commit", "_tracker")

    def __init__(
        self,
        tracker: OffsetTracker,
        dead_letter: DeadLetterSide,
        commit: Committer,
        on_commit: Callable[[dict[TopicPartitionKey, int]], None] | None = None,
    ) -> None:
        self._tracker = tracker
        self._dead_letter = dead_letter
        self._commit = commit
        self._on_commit = on_commit

    async def run(self, *, synchronous: bool = False) -> CommitResult:
        # 1. acknowledgements of dead-letter records settle their messages first
        self._dead_letter.poll()
        # 2. an unwritten reject stops everything: nothing may be committed past it
        self._dead_letter.raise_if_failed()
        # 3. only partitions whose watermark moved
        offsets = self._tracker.to_commit()
        if not offsets:
            return CommitResult(synchronous=synchronous)
        # 4. commit, then remember
        await self._commit(offsets, not synchronous)
        self._tracker.mark_committed(offsets)
        if self._on_commit is not None:
            self._on_commit(offsets)
        return CommitResult(offsets, synchronous)
