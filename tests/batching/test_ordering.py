"""The per-contact ordering gate, alone and as a model of delivery.

The property test drives the real gate and the real windows through generated interleavings
of new items, requests sent, answers completing in any order (all accepted, some accepted and
some to retry, some refused for good and dead-lettered, a whole request failed and retried, a
413 split), and revocations. A model of Ortto applies what is accepted in completion order,
as Ortto does; the test checks that no contact ever goes back to an older value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from streamer.batching import Batch, Batcher, ContactOrder
from streamer.offsets import OffsetTracker, PartitionOffsets, Ticket
from streamer.routing._types import Route
from streamer.testing._clock import FakeClock

TRACK = Route(0, "track", "trackActivity", "/track")
IDENTIFY = Route(1, "identify", "upsertContactProfile", "/identify")
IDENTIFY_TOO = Route(2, "identify-2", "upsertContactProfile", "/identify")  # same endpoint


def _ticket(state: PartitionOffsets, offset: int) -> Ticket:
    ticket = state.dispatch(offset, 1)
    assert ticket is not None
    return ticket


def _gate(max_items: int = 100) -> tuple[Batcher, ContactOrder]:
    batcher = Batcher(max_items=max_items, max_bytes=100_000, linger_s=1.0, clock=FakeClock())
    return batcher, ContactOrder(batcher.add)


def test_a_contacts_next_item_waits_for_the_previous_one() -> None:
    batcher, order = _gate()
    state = PartitionOffsets(("t", 0))
    order.add(IDENTIFY, b"a1", _ticket(state, 0), "a")
    order.add(IDENTIFY, b"b1", _ticket(state, 1), "b")
    order.add(IDENTIFY, b"a2", _ticket(state, 2), "a")
    order.add(IDENTIFY, b"a3", _ticket(state, 3), "a")
    assert order.held == 2 and order.held_bytes == 4
    assert order.held_by_partition == {("t", 0): 2}
    (first,) = batcher.drain()
    assert first.items == [b"a1", b"b1"] and first.contacts == ["a", "b"]
    order.confirmed(first, [1])  # b's answer: nothing of b waits
    assert batcher.waiting == 0 and order.busy("/identify") == 1
    order.confirmed(first, [0])
    (second,) = batcher.drain()
    assert second.items == [b"a2"] and order.held == 1
    order.confirmed(second, None)
    (third,) = batcher.drain()
    order.confirmed(third, None)
    assert order.held == 0 and order.held_bytes == 0 and not order.held_by_partition
    assert order.busy("/identify") == 0 and order.releases == 2


def test_endpoints_are_ordered_apart_and_routes_of_one_endpoint_together() -> None:
    batcher, order = _gate()
    state = PartitionOffsets(("t", 0))
    order.add(IDENTIFY, b"i1", _ticket(state, 0), "a")
    order.add(TRACK, b"t1", _ticket(state, 1), "a")  # another endpoint: not held
    order.add(IDENTIFY_TOO, b"i2", _ticket(state, 2), "a")  # same endpoint: held
    assert order.held == 1
    assert sorted(item for b in batcher.drain() for item in b.items) == [b"i1", b"t1"]


def test_items_without_a_contact_are_not_ordered() -> None:
    batcher, order = _gate()
    state = PartitionOffsets(("t", 0))
    for offset in range(3):
        order.add(IDENTIFY, b"x", _ticket(state, offset), None)
    order.add(IDENTIFY, b"y", _ticket(state, 3), "")
    assert order.held == 0 and batcher.waiting == 4


def test_discard_drops_held_items_of_revoked_partitions_and_skips_them_on_release() -> None:
    batcher, order = _gate()
    tracker = OffsetTracker()
    tracker.assign([("t", 0), ("t", 1)])
    p0, p1 = tracker.partition("t", 0), tracker.partition("t", 1)
    order.add(IDENTIFY, b"a1", _ticket(p0, 0), "a")
    order.add(IDENTIFY, b"a2", _ticket(p1, 0), "a")
    order.add(IDENTIFY, b"a3", _ticket(p1, 1), "a")
    order.add(IDENTIFY, b"a4", _ticket(p0, 1), "a")
    assert order.discard({("t", 1)}) == {("t", 1): 0}
    assert order.held == 1 and order.held_by_partition == {("t", 0): 1}
    (sent,) = batcher.drain()
    order.confirmed(sent, None)
    (released,) = batcher.drain()
    assert released.items == [b"a4"]
    # A held item whose partition was revoked after it was held is skipped on release.
    order.add(IDENTIFY, b"a5", _ticket(p0, 2), "a")
    tracker.revoke([("t", 0)])
    order.confirmed(released, None)
    assert batcher.waiting == 0 and order.held == 0 and order.busy("/identify") == 0


def test_hot_partitions_are_those_past_the_limit() -> None:
    _batcher, order = _gate()
    hot, calm = PartitionOffsets(("t", 0)), PartitionOffsets(("t", 1))
    for offset in range(6):
        order.add(IDENTIFY, b"bot", _ticket(hot, offset), "bot")
    order.add(IDENTIFY, b"u1", _ticket(calm, 0), "u")
    order.add(IDENTIFY, b"u2", _ticket(calm, 1), "u")
    assert list(order.hot_partitions(3)) == [("t", 0)]
    assert order.held_by_partition == {("t", 0): 5, ("t", 1): 1}


# -- the model -------------------------------------------------------------------------------

CONTACTS = ["a", "b", "c", "d"]
ROUTES = [IDENTIFY, IDENTIFY_TOO, TRACK]


@dataclass
class World:
    batcher: Batcher
    order: ContactOrder
    tracker: OffsetTracker
    in_flight: list[Batch] = field(default_factory=list)
    next_seq: dict[tuple[str, str], int] = field(default_factory=dict)
    applied: dict[tuple[str, str], int] = field(default_factory=dict)
    refused: set[tuple[str, str, int]] = field(default_factory=set)
    offsets: dict[int, int] = field(default_factory=dict)

    def add(self, route: Route, contact: str, partition: int) -> None:
        state = self.tracker.get("t", partition)
        if state is None:
            return  # revoked: this process consumes nothing more of it
        key = (route.path, contact)
        seq = self.next_seq[key] = self.next_seq.get(key, 0) + 1
        offset = self.offsets[partition] = self.offsets.get(partition, -1) + 1
        item = orjson.dumps({"c": contact, "seq": seq, "path": route.path})
        self.order.add(route, item, _ticket(state, offset), contact)

    def send(self) -> None:
        self.in_flight.extend(self.batcher.drain())

    def accept(self, batch: Batch, indexes: list[int] | None) -> None:
        for i in range(len(batch)) if indexes is None else indexes:
            item = orjson.loads(batch.items[i])
            key = (item["path"], item["c"])
            # Ortto applies in completion order: an older value must never come after.
            assert item["seq"] > self.applied.get(key, 0), (key, item, self.applied)
            self.applied[key] = item["seq"]
            batch.tickets[i].settle()
        self.order.confirmed(batch, indexes)

    def refuse(self, batch: Batch, index: int) -> None:
        item = orjson.loads(batch.items[index])
        self.refused.add((item["path"], item["c"], item["seq"]))
        batch.tickets[index].settle()
        self.order.confirmed_one(batch.route.path, batch.contacts[index])

    def answer(self, which: int, kind: str, picks: list[bool]) -> None:
        batch = self.in_flight.pop(which % len(self.in_flight))
        gone = batch.revoked_indexes()  # a retry drops items of revoked partitions first
        if gone:
            self.order.confirmed(batch, gone)
            batch = batch.without(gone)
            if not batch.items:
                return
        n = len(batch)
        chosen = [i for i in range(n) if picks[i % len(picks)]]
        others = [i for i in range(n) if i not in chosen]
        if kind == "accept":
            self.accept(batch, None)
        elif kind == "partial":  # chosen accepted, the others retried
            self.accept(batch, chosen)
            if others:
                self.in_flight.append(batch.subset(others))
        elif kind == "refuse":  # chosen dead-lettered, the others accepted
            self.accept(batch, others)
            for i in chosen:
                self.refuse(batch, i)
        elif kind == "fail":  # a 503: the whole request goes round again
            self.in_flight.append(batch)
        else:  # a 413: two requests of their own
            if n == 1:
                self.refuse(batch, 0)
            else:
                self.in_flight.extend(batch.halves())

    def revoke(self, partition: int) -> None:
        key = ("t", partition)
        if self.tracker.get(*key) is None or len(self.tracker) == 1:
            return
        keys = {key}
        self.order.discard(keys)
        for batch, indexes in self.batcher.discard(keys):
            self.order.confirmed(batch, indexes)
        self.tracker.revoke([key])

    def check_at_most_one_out(self) -> None:
        out: dict[tuple[str, str], int] = {}
        for batch in [*self.in_flight, *self.batcher.windows().values(), *self.batcher.ready]:
            for i, contact in enumerate(batch.contacts):
                if not batch.tickets[i].partition.revoked:
                    key = (batch.route.path, str(contact))
                    out[key] = out.get(key, 0) + 1
        assert all(n == 1 for n in out.values()), out


_STEP = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(ROUTES), st.sampled_from(CONTACTS),
              st.integers(0, 2)),
    st.tuples(st.just("send")),
    st.tuples(st.just("answer"), st.integers(0, 50),
              st.sampled_from(["accept", "partial", "refuse", "fail", "split"]),
              st.lists(st.booleans(), min_size=1, max_size=5)),
    st.tuples(st.just("revoke"), st.integers(0, 2)),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_STEP, min_size=1, max_size=120), st.integers(1, 4))
def test_no_interleaving_lets_an_older_item_overtake(steps: list[tuple], max_items: int) -> None:  # type: ignore[type-arg]
    batcher, order = _gate(max_items)
    tracker = OffsetTracker()
    tracker.assign([("t", 0), ("t", 1), ("t", 2)])
    world = World(batcher, order, tracker)
    for step in steps:
        if step[0] == "add":
            world.add(step[1], step[2], step[3])
        elif step[0] == "send":
            world.send()
        elif step[0] == "answer" and world.in_flight:
            world.answer(step[1], step[2], step[3])
        elif step[0] == "revoke":
            world.revoke(step[1])
        world.check_at_most_one_out()
        world.in_flight.extend(batcher.take_ready())
    # Everything still out is answered at last, in an order of its own: nothing is lost.
    while world.in_flight or not batcher.empty:
        world.send()
        world.answer(len(world.in_flight) - 1, "accept", [True])
        world.check_at_most_one_out()
    assert order.held == 0 and order.held_bytes == 0 and not order.held_by_partition
    assert all(order.busy(r.path) == 0 for r in ROUTES)
    for state in tracker:
        assert state.pending == 0  # every message of an assigned partition is done
    if len(tracker) == 3:  # nothing revoked: every contact ends on its newest value kept
        for key, last in world.next_seq.items():
            kept = [q for q in range(1, last + 1) if (key[0], key[1], q) not in world.refused]
            assert world.applied.get(key) == (max(kept) if kept else None), key
