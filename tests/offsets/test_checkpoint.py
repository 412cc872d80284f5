"""The checkpoint's steps, with the committer and the dead-letter side faked: only what the
broker confirmed advances, and what it refused is sent again without the watermark moving."""

from __future__ import annotations

import asyncio

import pytest

from streamer import DeadLetterError
from streamer.offsets import Checkpoint, CommitResult, OffsetTracker

Key = tuple[str, int]
P0, P1 = ("t", 0), ("t", 1)


class FakeDeadLetter:
    def __init__(self) -> None:
        self.polls = 0
        self.failure: DeadLetterError | None = None

    def poll(self) -> None:
        self.polls += 1

    def raise_if_failed(self) -> None:
        if self.failure is not None:
            raise self.failure


class Broker:
    """Answers each commit as the test says: per partition ``"ok"`` or an error text.

    Synchronous commits are answered by the return; asynchronous ones are kept until the test
    delivers the answer with :meth:`answer` (as the consumer's callback does later)."""

    def __init__(self) -> None:
        self.sent: list[tuple[dict[Key, int], bool]] = []
        self.verdicts: dict[Key, str] = {}
        self.waiting: list[tuple[dict[Key, int], bool]] = []

    async def commit(self, offsets: dict[Key, int], asynchronous: bool) -> CommitResult | None:
        self.sent.append((dict(offsets), asynchronous))
        if asynchronous:
            self.waiting.append((dict(offsets), asynchronous))
            return None
        return self._result(offsets, synchronous=True)

    def _result(self, offsets: dict[Key, int], *, synchronous: bool) -> CommitResult:
        result = CommitResult(synchronous=synchronous)
        for key, offset in offsets.items():
            verdict = self.verdicts.get(key, "ok")
            if verdict == "ok":
                result.confirmed[key] = offset
            else:
                result.failed[key] = verdict
        return result

    def answer(self, checkpoint: Checkpoint) -> None:
        for offsets, _ in self.waiting:
            checkpoint.confirm(self._result(offsets, synchronous=False))
        self.waiting.clear()


def _tracker(done: dict[Key, int]) -> OffsetTracker:
    """Partitions with messages 0..n-1 done (filtered), so each commits n."""
    tracker = OffsetTracker()
    tracker.assign(done)
    for key, count in done.items():
        state = tracker.partition(*key)
        for offset in range(count):
            state.dispatch(offset, 0)
    return tracker


# Each step: (synchronous, verdicts per partition for this commit, the async answer comes
# before the next step?) -> what is sent, and what the tracker holds as committed afterwards.
Step = tuple[bool, dict[Key, str], bool]
CASES: list[tuple[str, list[Step], list[dict[Key, int]], dict[Key, int | None]]] = [
    ("async confirmed, then nothing to send",
     [(False, {}, True), (False, {}, True)],
     [{P0: 2, P1: 3}, {}], {P0: 2, P1: 3}),
    ("async not answered yet: sent again, nothing counted",
     [(False, {}, False), (False, {}, False)],
     [{P0: 2, P1: 3}, {P0: 2, P1: 3}], {P0: None, P1: None}),
    ("async refused for one partition: only that one is sent again",
     [(False, {P1: "Broker: Topic authorization failed"}, True), (False, {}, True)],
     [{P0: 2, P1: 3}, {P1: 3}], {P0: 2, P1: 3}),
    ("async refused for all, then a synchronous commit carries it",
     [(False, {P0: "REBALANCE_IN_PROGRESS", P1: "REBALANCE_IN_PROGRESS"}, True),
      (True, {}, False)],
     [{P0: 2, P1: 3}, {P0: 2, P1: 3}], {P0: 2, P1: 3}),
    ("sync confirmed at once",
     [(True, {}, False), (True, {}, False)],
     [{P0: 2, P1: 3}, {}], {P0: 2, P1: 3}),
    ("sync refused stays uncommitted",
     [(True, {P0: "timed out"}, False)],
     [{P0: 2, P1: 3}], {P0: None, P1: 3}),
]


@pytest.mark.parametrize(("steps", "sent", "committed"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_only_confirmed_commits_count(
    steps: list[Step], sent: list[dict[Key, int]], committed: dict[Key, int | None]
) -> None:
    tracker = _tracker({P0: 2, P1: 3})
    broker = Broker()
    answers: list[CommitResult] = []
    checkpoint = Checkpoint(tracker, FakeDeadLetter(), broker.commit, on_result=answers.append)

    async def scenario() -> list[dict[Key, int]]:
        out = []
        for synchronous, verdicts, answered in steps:
            broker.verdicts = verdicts
            out.append(await checkpoint.run(synchronous=synchronous))
            if answered:
                broker.answer(checkpoint)
        return out

    assert asyncio.run(scenario()) == sent
    assert {key: tracker.partition(*key).committed for key in committed} == committed
    for result in answers:
        assert set(result.confirmed).isdisjoint(result.failed)


def test_a_confirmation_after_revocation_moves_no_tracker_state() -> None:
    tracker = _tracker({P0: 2})
    broker = Broker()
    answers: list[CommitResult] = []
    checkpoint = Checkpoint(tracker, FakeDeadLetter(), broker.commit, on_result=answers.append)
    asyncio.run(checkpoint.run())
    tracker.revoke([P0])
    tracker.assign([P0], {P0: 0})  # a new generation, read from the group's offsets
    broker.answer(checkpoint)
    assert tracker.partition(*P0).committed == 2  # the broker has it: never lower
    assert answers[0].confirmed == {P0: 2}
    fresh = OffsetTracker()
    Checkpoint(fresh, FakeDeadLetter(), broker.commit).confirm(CommitResult({P1: 9}))
    assert fresh.get(*P1) is None  # not assigned: nothing is created


def test_an_unwritten_dead_letter_stops_the_commit() -> None:
    tracker = _tracker({P0: 2})
    broker = Broker()
    dead = FakeDeadLetter()
    dead.failure = DeadLetterError("dead-letter record was not written")
    with pytest.raises(DeadLetterError):
        asyncio.run(Checkpoint(tracker, dead, broker.commit).run())
    assert broker.sent == []
    assert dead.polls == 1


def test_refusals_are_logged_at_most_every_ten_seconds_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from streamer.testing import FakeClock

    clock = FakeClock()
    checkpoint = Checkpoint(_tracker({P0: 2}), FakeDeadLetter(), Broker().commit, clock=clock)
    refused = CommitResult(failed={P0: "Broker: Unknown member"})
    with caplog.at_level("WARNING", logger="streamer.offsets"):
        for _ in range(5):
            checkpoint.confirm(refused)
            clock.advance(1.0)
        clock.advance(10.0)
        checkpoint.confirm(refused)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("1 partition commit(s) refused") and "t[0]" in lines[0]
    assert lines[1].startswith("5 partition commit(s) refused")
