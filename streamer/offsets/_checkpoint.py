"""A checkpoint: the numbered steps that make a commit safe, and count only once confirmed.

Run periodically (asynchronous commit) and at shutdown (synchronous commit):

1. Poll the dead-letter producer, so broker acknowledgements settle their messages.
2. Raise a latched dead-letter failure: a reject that was not written must never be committed
   past; processing stops instead.
3. Ask the tracker which partitions' committable offsets are past what the broker confirmed.
   A commit that failed, or whose answer has not come yet, is simply sent again: the watermark
   need not move for an offset to be retried.
4. Send the commit. A synchronous commit's answer is its return; an asynchronous one is answered
   later by the consumer's commit callback, which the source hands to :meth:`Checkpoint.confirm`
   on the event loop (so does the synchronous commit a revocation makes).
5. :meth:`confirm`: only the partitions the broker confirmed advance (the tracker's
   ``committed``, and whatever ``on_result`` keeps: the pipeline's ``committed``, the gauges);
   a partition refused is left to the next checkpoint, revocation or shutdown (a revoked one
   to its next owner). Refusals are logged at most once every 10 s, with the count since the
   last line and one example.

The committer and the dead-letter side are protocols, so the steps are tested without Kafka.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from ._tracker import OffsetTracker, TopicPartitionKey

__all__ = ["Checkpoint", "CommitResult", "DeadLetterSide"]

log = logging.getLogger("streamer.offsets")

_LOG_EVERY_S = 10.0

Committer = Callable[[dict[TopicPartitionKey, int], bool], Awaitable["CommitResult | None"]]
"""``commit(offsets, asynchronous)``: the broker's answer when synchronous, else ``None``
(the answer comes later, through :meth:`Checkpoint.confirm`)."""


class DeadLetterSide(Protocol):
    def poll(self) -> None: ...

    def raise_if_failed(self) -> None: ...


@dataclass(slots=True)
class CommitResult:
    """The broker's answer to one commit, per partition."""

    confirmed: dict[TopicPartitionKey, int] = field(default_factory=dict)
    """Offsets the broker stored."""
    failed: dict[TopicPartitionKey, str] = field(default_factory=dict)
    """Partitions whose commit was refused or lost, with the error."""
    synchronous: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed


class Checkpoint:
    __slots__ = (
        "_clock", "_commit", "_dead_letter", "_logged_at", "_on_result", "_refused", "_tracker"
    )

    def __init__(
        self,
        tracker: OffsetTracker,
        dead_letter: DeadLetterSide,
        commit: Committer,
        on_result: Callable[[CommitResult], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tracker = tracker
        self._dead_letter = dead_letter
        self._commit = commit
        self._on_result = on_result
        self._clock = clock
        self._refused = 0
        self._logged_at = -1e18

    async def run(self, *, synchronous: bool = False) -> dict[TopicPartitionKey, int]:
        """Send a commit of what is done; return the offsets sent (empty: nothing to send)."""
        # 1. acknowledgements of dead-letter records settle their messages first
        self._dead_letter.poll()
        # 2. an unwritten reject stops everything: nothing may be committed past it
        self._dead_letter.raise_if_failed()
        # 3. partitions whose watermark is past the confirmed commit (failed ones included)
        offsets = self._tracker.to_commit()
        if not offsets:
            return offsets
        # 4. send; a synchronous commit is answered at once
        result = await self._commit(offsets, not synchronous)
        if result is not None:
            self.confirm(result)
        return offsets

    def confirm(self, result: CommitResult) -> None:
        """5. The broker's answer: advance what it confirmed, nothing else."""
        self._tracker.mark_committed(result.confirmed)
        if result.failed:
            self._refused += len(result.failed)
            now = self._clock()
            if now - self._logged_at >= _LOG_EVERY_S:
                (topic, partition), error = next(iter(result.failed.items()))
                log.warning(
                    "%d partition commit(s) refused since the last line, e.g. %s[%d] (%s): %s; "
                    "an assigned partition is committed again at the next checkpoint, a revoked "
                    "one is redone by its next owner", self._refused, topic, partition,
                    "synchronous" if result.synchronous else "asynchronous", error,
                )
                self._refused, self._logged_at = 0, now
        if self._on_result is not None:
            self._on_result(result)
