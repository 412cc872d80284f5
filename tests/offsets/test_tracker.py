"""Offset maths, by tables: each row is a script of dispatches and settlements, and the
committable offset expected after it."""

from __future__ import annotations

import pytest

from streamer.offsets import OffsetTracker, PartitionOffsets

# Script steps: ("d", offset, parts) dispatch; ("s", offset) settle one piece of that offset.
CASES = [
    ("nothing dispatched", [], None),
    ("one filtered message", [("d", 0, 0)], 1),
    ("filtered messages in a row", [("d", 0, 0), ("d", 1, 0), ("d", 2, 0)], 3),
    ("one in flight", [("d", 0, 1)], 0),
    ("in flight then done", [("d", 0, 1), ("s", 0)], 1),
    ("done behind one in flight", [("d", 0, 1), ("d", 1, 1), ("s", 1)], 0),
    ("head done releases the rest", [("d", 0, 1), ("d", 1, 1), ("s", 1), ("s", 0)], 2),
    ("filtered behind in flight", [("d", 0, 1), ("d", 1, 0), ("d", 2, 0)], 0),
    ("filtered behind done", [("d", 0, 1), ("d", 1, 0), ("s", 0)], 2),
    ("fan-out half done", [("d", 5, 3), ("s", 5), ("s", 5)], 5),
    ("fan-out all done", [("d", 5, 3), ("s", 5), ("s", 5), ("s", 5)], 6),
    ("gaps in offsets (compaction)", [("d", 10, 1), ("d", 14, 1), ("s", 10)], 14),
    ("gaps, all done", [("d", 10, 1), ("d", 14, 1), ("s", 14), ("s", 10)], 15),
    (
        "middle of three pending",
        [("d", 1, 1), ("d", 2, 2), ("d", 3, 1), ("s", 1), ("s", 3), ("s", 2)],
        2,
    ),
    (
        "out-of-order completion",
        [("d", 1, 1), ("d", 2, 1), ("d", 3, 1), ("s", 3), ("s", 2), ("s", 1)],
        4,
    ),
]


@pytest.mark.parametrize(("script", "expected"), [(c[1], c[2]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_committable_never_passes_an_undone_message(
    script: list[tuple[object, ...]], expected: int | None
) -> None:
    state = PartitionOffsets(("t", 0))
    tickets = {}
    for step in script:
        if step[0] == "d":
            _, offset, parts = step
            ticket = state.dispatch(offset, parts)  # type: ignore[arg-type]
            if ticket is not None:
                tickets[offset] = ticket
        else:
            tickets[step[1]].settle()
    assert state.committable() == expected


def test_pending_counts_messages_not_pieces() -> None:
    state = PartitionOffsets(("t", 0))
    a = state.dispatch(0, 3)
    state.dispatch(1, 1)
    assert state.pending == 2
    assert a is not None
    a.settle()
    a.settle()
    assert state.pending == 2
    a.settle()
    assert state.pending == 1


def test_settling_too_often_is_a_bug_not_silence() -> None:
    state = PartitionOffsets(("t", 0))
    ticket = state.dispatch(0, 1)
    assert ticket is not None
    ticket.settle()
    with pytest.raises(RuntimeError):
        ticket.settle()


def test_to_commit_only_when_it_moved() -> None:
    tracker = OffsetTracker()
    tracker.assign([("t", 0), ("t", 1)])
    tracker.partition("t", 0).dispatch(0, 0)
    assert tracker.to_commit() == {("t", 0): 1}
    tracker.mark_committed({("t", 0): 1})
    assert tracker.to_commit() == {}
    tracker.partition("t", 0).dispatch(1, 0)
    tracker.partition("t", 1).dispatch(7, 0)
    assert tracker.to_commit() == {("t", 0): 2, ("t", 1): 8}


def test_revoked_partition_ignores_late_settlements() -> None:
    tracker = OffsetTracker()
    tracker.assign([("t", 0)])
    old = tracker.partition("t", 0).dispatch(0, 1)
    assert old is not None
    final = tracker.revoke([("t", 0)])
    assert final[("t", 0)].committable() == 0
    tracker.assign([("t", 0)])
    fresh = tracker.partition("t", 0)
    fresh.dispatch(0, 1)
    old.settle()  # the old generation's answer arrives late
    assert fresh.committable() == 0
    assert fresh.pending == 1


def test_seek_backwards_voids_the_older_epoch() -> None:
    state = PartitionOffsets(("t", 0))
    old = state.dispatch(5, 1)
    assert old is not None
    state.dispatch(2, 1)  # replay from an earlier offset
    old.settle()
    assert state.pending == 1
    assert state.committable() == 2


def test_holding_back_names_the_oldest_undone_message() -> None:
    state = PartitionOffsets(("t", 0))
    state.dispatch(3, 1, now=10.0)
    state.dispatch(4, 1, now=11.0)
    held = state.holding_back()
    assert held is not None
    assert (held.offset, held.dispatched_at) == (3, 10.0)


def test_a_done_message_is_let_go_of_while_an_older_one_is_in_flight() -> None:
    from streamer.testing import FakeMessage

    state = PartitionOffsets(("t", 0))
    head = state.dispatch(0, 1, 0.0, FakeMessage("t", 0, 0, b"old"))
    later = state.dispatch(1, 1, 0.0, FakeMessage("t", 0, 1, b"x" * 1000))
    assert head is not None and later is not None
    later.settle()
    # Still queued behind the head (the commit cannot pass offset 0), but not kept alive.
    assert state.committable() == 0 and later.message is None
    assert head.message is not None and state.pending_bytes == head.nbytes
    head.settle()
    assert state.committable() == 2 and head.message is None


class _Stamped:
    """A kept message with a Kafka timestamp (kind 0: none)."""

    def __init__(self, kind: int, stamp_ms: int) -> None:
        self._stamp = (kind, stamp_ms)

    def timestamp(self) -> tuple[int, int]:
        return self._stamp

    def value(self) -> bytes:
        return b"{}"

    def key(self) -> None:
        return None


def test_settle_all_ages_each_stamped_message_then_settles_it() -> None:
    from streamer.offsets import settle_all

    state = PartitionOffsets(("t", 0))
    # (timestamp kind, timestamp ms, pieces of work): the ages are read before settling.
    rows = [(1, 9_750, 1), (0, -1, 1), (1, 10_900, 1), (1, 6_000, 2)]
    tickets = []
    for offset, (kind, stamp, parts) in enumerate(rows):
        ticket = state.dispatch(offset, parts, 0.0, _Stamped(kind, stamp))
        assert ticket is not None
        tickets.append(ticket)
    ages = settle_all(tickets, now_ms=10_000.0)
    assert ages == [pytest.approx(0.25), 0.0, pytest.approx(4.0)]  # none for kind 0; future: 0
    assert [t.remaining for t in tickets] == [0, 0, 0, 1]
    assert [t.message is None for t in tickets] == [True, True, True, False]
    assert state.committable() == 3 and state.pending == 1
    # Its second piece: the message was kept for it, and it is aged again (a retried half).
    assert settle_all(tickets[3:], now_ms=10_000.0) == [pytest.approx(4.0)]
    assert state.pending == 0 and state.committable() == 4
