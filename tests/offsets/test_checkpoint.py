"""The checkpoint's steps, with the committer and the dead-letter side faked."""

from __future__ import annotations

import asyncio

import pytest

from streamer import DeadLetterError
from streamer.offsets import Checkpoint, OffsetTracker


class FakeDeadLetter:
    def __init__(self) -> None:
        self.polls = 0
        self.failure: DeadLetterError | None = None

    def poll(self) -> None:
        self.polls += 1

    def raise_if_failed(self) -> None:
        if self.failure is not None:
            raise self.failure


def _setup() -> tuple[OffsetTracker, FakeDeadLetter, list[tuple[dict[tuple[str, int], int], bool]]]:
    tracker = OffsetTracker()
    tracker.assign([("t", 0)])
    state = tracker.partition("t", 0)
    state.dispatch(0, 0)
    state.dispatch(1, 0)
    return tracker, FakeDeadLetter(), []


def test_commits_what_moved_then_nothing() -> None:
    tracker, dead, commits = _setup()

    async def commit(offsets: dict[tuple[str, int], int], asynchronous: bool) -> None:
        commits.append((dict(offsets), asynchronous))

    checkpoint = Checkpoint(tracker, dead, commit)
    first = asyncio.run(checkpoint.run())
    second = asyncio.run(checkpoint.run(synchronous=True))
    assert first.offsets == {("t", 0): 2}
    assert commits == [({("t", 0): 2}, True)]
    assert second.offsets == {}
    assert dead.polls == 2


def test_an_unwritten_dead_letter_stops_the_commit() -> None:
    tracker, dead, commits = _setup()

    async def commit(offsets: dict[tuple[str, int], int], asynchronous: bool) -> None:
        commits.append((dict(offsets), asynchronous))

    dead.failure = DeadLetterError("dead-letter record was not written")
    with pytest.raises(DeadLetterError):
        asyncio.run(Checkpoint(tracker, dead, commit).run())
    assert commits == []
