from __future__ import annotations

import orjson
import pytest

from streamer.batching import Batcher
from streamer.offsets import PartitionOffsets
from streamer.routing._types import Route
from streamer.testing._clock import FakeClock

TRACK = Route(0, "track", "trackActivity", "/track")
IDENTIFY = Route(1, "identify", "upsertContactProfile", "/identify")


def _ticket(state: PartitionOffsets, offset: int):  # type: ignore[no-untyped-def]
    ticket = state.dispatch(offset, 1)
    assert ticket is not None
    return ticket


@pytest.mark.parametrize("count", [0, 1, 2, 3, 500])
def test_a_body_is_the_json_array_of_its_items_and_as_long_as_counted(count: int) -> None:
    from streamer.batching import Batch

    state = PartitionOffsets(("t", 0))
    batch = Batch(TRACK, 0.0)
    items = [b'{"i":%d}' % i for i in range(count)]
    for i, item in enumerate(items):
        batch.append(item, _ticket(state, i))
    body = batch.body()
    assert orjson.loads(body) == [{"i": i} for i in range(count)]
    assert len(body) == batch.nbytes + (1 if count == 0 else 0)  # "[]": no item, no comma
    assert batch.items == items  # the brackets are not left on the items


def test_closes_a_window_when_full() -> None:
    clock = FakeClock()
    batcher = Batcher(max_items=3, max_bytes=10_000, linger_s=1.0, clock=clock)
    state = PartitionOffsets(("t", 0))
    for i in range(7):
        batcher.add(TRACK, b'{"i":%d}' % i, _ticket(state, i))
    ready = batcher.take_ready()
    assert [len(b) for b in ready] == [3, 3]
    assert ready[0].body() == b'[{"i":0},{"i":1},{"i":2}]'
    assert batcher.waiting == 1
    assert batcher.take_ready() == []


def test_one_window_per_route() -> None:
    clock = FakeClock()
    batcher = Batcher(max_items=2, max_bytes=10_000, linger_s=1.0, clock=clock)
    state = PartitionOffsets(("t", 0))
    batcher.add(TRACK, b"1", _ticket(state, 0))
    batcher.add(IDENTIFY, b"2", _ticket(state, 1))
    assert batcher.take_ready() == []
    batcher.add(TRACK, b"3", _ticket(state, 2))
    (ready,) = batcher.take_ready()
    assert ready.route is TRACK and ready.items == [b"1", b"3"]


def test_linger_closes_old_windows_only() -> None:
    clock = FakeClock()
    batcher = Batcher(max_items=100, max_bytes=10_000, linger_s=0.5, clock=clock)
    state = PartitionOffsets(("t", 0))
    batcher.add(TRACK, b"1", _ticket(state, 0))
    clock.advance(0.3)
    batcher.add(IDENTIFY, b"2", _ticket(state, 1))
    assert batcher.due() == []
    assert batcher.next_deadline() == clock.now - 0.3 + 0.5
    clock.advance(0.2)
    (due,) = batcher.due()
    assert due.route is TRACK
    clock.advance(0.3)
    (due,) = batcher.due()
    assert due.route is IDENTIFY
    assert batcher.waiting == 0


def test_byte_limit_is_exact() -> None:
    clock = FakeClock()
    # "[" + "aaaa" + "," + "bbbb" + "]" = 11 bytes fits; a third item would need 16.
    batcher = Batcher(max_items=100, max_bytes=11, linger_s=1.0, clock=clock)
    state = PartitionOffsets(("t", 0))
    for i, item in enumerate([b"aaaa", b"bbbb", b"cccc"]):
        batcher.add(TRACK, item, _ticket(state, i))
    (ready,) = batcher.take_ready()
    assert ready.body() == b"[aaaa,bbbb]"
    assert len(ready.body()) <= 11
    (rest,) = batcher.drain()
    assert rest.items == [b"cccc"]


def test_discard_drops_only_revoked_partitions() -> None:
    clock = FakeClock()
    batcher = Batcher(max_items=100, max_bytes=10_000, linger_s=1.0, clock=clock)
    p0, p1 = PartitionOffsets(("t", 0)), PartitionOffsets(("t", 1))
    batcher.add(TRACK, b"a", _ticket(p0, 0))
    batcher.add(TRACK, b"b", _ticket(p1, 0))
    batcher.add(IDENTIFY, b"c", _ticket(p1, 1))
    dropped = batcher.discard({("t", 1)})
    assert sorted(b.items[i] for b, gone in dropped for i in gone) == [b"b", b"c"]
    assert batcher.waiting == 1
    (left,) = batcher.drain()
    assert left.items == [b"a"]


def test_halves_and_subset_keep_tickets_aligned() -> None:
    clock = FakeClock()
    batcher = Batcher(max_items=4, max_bytes=10_000, linger_s=1.0, clock=clock)
    state = PartitionOffsets(("t", 0))
    tickets = [_ticket(state, i) for i in range(4)]
    for i, t in enumerate(tickets):
        batcher.add(TRACK, str(i).encode(), t)
    (batch,) = batcher.take_ready()
    first, second = batch.halves()
    assert first.items == [b"0", b"1"] and first.tickets == tickets[:2]
    assert second.items == [b"2", b"3"] and second.tickets == tickets[2:]
    odd = batch.subset([3, 1])
    assert odd.items == [b"3", b"1"] and odd.tickets == [tickets[3], tickets[1]]


def test_a_route_with_its_own_batch_size_gets_the_lower_limit() -> None:
    clock = FakeClock()
    limits = {TRACK.index: 2, IDENTIFY.index: 1000}
    batcher = Batcher(max_items=3, max_bytes=10_000, linger_s=1.0, clock=clock,
                      route_limit=lambda route: limits[route.index])
    state = PartitionOffsets(("t", 0))
    for i in range(6):
        batcher.add(TRACK, b"%d" % i, _ticket(state, i))
    for i in range(6, 12):
        batcher.add(IDENTIFY, b"%d" % i, _ticket(state, i))
    assert [(b.route.name, len(b)) for b in batcher.take_ready()] == [
        ("track", 2), ("track", 2), ("track", 2), ("identify", 3), ("identify", 3)
    ]


def test_fits_counts_the_brackets() -> None:
    batcher = Batcher(max_items=3, max_bytes=10, linger_s=1.0, clock=FakeClock())
    assert batcher.fits(b"12345678")
    assert not batcher.fits(b"123456789")


def test_wait_s_runs_to_the_first_linger_and_never_to_zero() -> None:
    clock = FakeClock(start=0.0)
    batcher = Batcher(max_items=100, max_bytes=10_000, linger_s=0.5, clock=clock)
    state = PartitionOffsets(("t", 0))
    assert batcher.wait_s() is None  # no window open: the caller's own wait
    batcher.add(TRACK, b"1", _ticket(state, 0))
    clock.now = 0.2
    batcher.add(IDENTIFY, b"2", _ticket(state, 1))
    # (now, wait): the first window's linger (opened at 0), then a floor once it is overdue
    for now, wait in [(0.2, 0.3), (0.45, 0.05), (0.5, 0.001), (0.9, 0.001)]:
        clock.now = now
        assert batcher.wait_s() == pytest.approx(wait), now
    assert batcher.wait_s(at_least=0.01) == 0.01
    clock.now = 0.6
    (due,) = batcher.due()
    assert due.route is TRACK
    assert batcher.wait_s() == pytest.approx(0.1)  # the identify window's (opened at 0.2)
    clock.now = 0.75
    (due,) = batcher.due()
    assert due.route is IDENTIFY
    assert batcher.wait_s() is None
