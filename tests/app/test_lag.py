"""Consumer lag in messages and seconds (``streamer.app._lag``) and what the dispatcher keeps
for it: each case of the definition, on the offset tracker's own state."""

from __future__ import annotations

import time

import orjson

from streamer.app._dispatch import Dispatcher
from streamer.app._lag import lag_messages, lag_seconds
from streamer.batching import Batcher
from streamer.observability import Metrics
from streamer.offsets import OffsetTracker
from streamer.routing import compile_router
from streamer.source import decode_json
from streamer.testing import FakeMessage, sample_events

WALL_MS = 1_795_000_100_000  # "now", 100 s after FakeMessage's default timestamp
WALL = WALL_MS / 1000.0


def _tracker() -> OffsetTracker:
    tracker = OffsetTracker()
    tracker.assign([("t", 0)], {("t", 0): 10})
    return tracker


def test_pending_counts_from_the_oldest_message_not_done() -> None:
    tracker = _tracker()
    state = tracker.partition("t", 0)
    old = state.dispatch(10, 1, 5.0, FakeMessage("t", 0, 10, b"{}", timestamp_ms=WALL_MS - 40_000))
    newer = state.dispatch(11, 1, 6.0, FakeMessage("t", 0, 11, b"{}", timestamp_ms=WALL_MS - 1000))
    assert old is not None and newer is not None
    newer.settle()  # done, but the older one still holds the commit point back
    behind = lag_messages(tracker, {("t", 0): (0, 20)})
    assert behind == {("t", 0): 10}
    assert lag_seconds(tracker, behind, {}, wall_now=WALL, now=7.0) == {("t", 0): 40.0}
    old.settle()
    behind = lag_messages(tracker, {("t", 0): (0, 20)})
    assert behind == {("t", 0): 8}
    # None pending, messages beyond: the last dispatched message's age.
    last = {("t", 0): (state, WALL_MS - 1000)}
    assert lag_seconds(tracker, behind, last, wall_now=WALL, now=7.0) == {("t", 0): 1.0}
    # Caught up: 0.
    behind = lag_messages(tracker, {("t", 0): (0, 12)})
    assert behind == {("t", 0): 0}
    assert lag_seconds(tracker, behind, last, wall_now=WALL, now=7.0) == {("t", 0): 0.0}


def test_a_message_without_a_timestamp_counts_from_when_it_was_consumed() -> None:
    class Untimed(FakeMessage):
        __slots__ = ()

        def timestamp(self) -> tuple[int, int]:
            return (0, -1)  # TIMESTAMP_NOT_AVAILABLE

    tracker = _tracker()
    tracker.partition("t", 0).dispatch(10, 1, 5.0, Untimed("t", 0, 10, b"{}"))
    behind = lag_messages(tracker, {("t", 0): (0, 11)})
    assert lag_seconds(tracker, behind, {}, wall_now=WALL, now=7.5) == {("t", 0): 2.5}


def test_unknown_lag_has_no_value() -> None:
    tracker = _tracker()
    # The end not known yet: neither figure.
    assert lag_messages(tracker, {}) == {}
    assert lag_seconds(tracker, {}, {}, wall_now=WALL, now=1.0) == {}
    # Messages behind the commit, none dispatched by this assignment: no age to tell.
    behind = lag_messages(tracker, {("t", 0): (0, 15)})
    assert behind == {("t", 0): 5}
    stale = OffsetTracker().partition("t", 0)  # a previous assignment's state
    last = {("t", 0): (stale, WALL_MS - 1000)}
    assert lag_seconds(tracker, behind, last, wall_now=WALL, now=1.0) == {}


def test_the_dispatcher_keeps_the_last_timestamp_of_each_partition() -> None:
    router = compile_router(None)
    tracker = OffsetTracker()
    batcher = Batcher(max_items=500, max_bytes=2_000_000, linger_s=10.0, clock=time.monotonic,
                      route_limit=router.max_items)
    dispatcher = Dispatcher(decode=decode_json, route=router.route, tracker=tracker,
                            batcher=batcher, dead_letter=None,  # type: ignore[arg-type]
                            metrics=Metrics(), clock=time.monotonic)
    values = [orjson.dumps(e) for e in sample_events(6, seed=3, page_share=0.0)]
    # Runs of one partition, as fetches come: 0, 0, 1, 1, 0, 1.
    layout = [(0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (1, 2)]
    dispatcher.process([FakeMessage("t", p, o, v, timestamp_ms=1000 * (i + 1))
                        for i, ((p, o), v) in enumerate(zip(layout, values, strict=True))])
    last = dispatcher.last_dispatched
    assert {k: stamp for k, (_s, stamp) in last.items()} == {("t", 0): 5000, ("t", 1): 6000}
    assert all(state is tracker.get(*k) for k, (state, _stamp) in last.items())
