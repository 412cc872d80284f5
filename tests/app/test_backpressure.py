"""Back-pressure, by tables: the decision for what is held, and what each holder counts."""

from __future__ import annotations

import pytest

from streamer.app._backpressure import BackPressure, Held, Pressure, Verdict, pipeline_holders
from streamer.batching import Batcher, ContactOrder
from streamer.config import DeliveryConfig
from streamer.offsets import MESSAGE_OVERHEAD, OffsetTracker, PartitionOffsets, message_bytes
from streamer.routing._types import Route
from streamer.source import ImmediateDecoding, decode_json, prefetch_bytes, prefetch_properties
from streamer.testing import FakeMessage

MAX_ITEMS, MAX_BYTES = 1_000, 10_000

# (name, items, bytes, paused, key ok, verdict)
DECISIONS = [
    ("idle, running", 0, 0, False, True, Verdict.KEEP),
    ("below both marks", 999, 9_999, False, True, Verdict.KEEP),
    ("at both marks (not above)", 1_000, 10_000, False, True, Verdict.KEEP),
    ("items above", 1_001, 0, False, True, Verdict.PAUSE),
    ("bytes above", 0, 10_001, False, True, Verdict.PAUSE),
    ("both above", 5_000, 50_000, False, True, Verdict.PAUSE),
    ("key refused, nothing held", 0, 0, False, False, Verdict.PAUSE),
    ("paused, still above bytes", 10, 10_001, True, True, Verdict.KEEP),
    ("paused, between half and the mark (bytes)", 10, 5_001, True, True, Verdict.KEEP),
    ("paused, between half and the mark (items)", 501, 10, True, True, Verdict.KEEP),
    ("paused, both at half", 500, 5_000, True, True, Verdict.RESUME),
    ("paused, both well below", 0, 0, True, True, Verdict.RESUME),
    ("paused, below but key refused", 0, 0, True, False, Verdict.KEEP),
]


@pytest.mark.parametrize(("items", "nbytes", "paused", "key_ok", "verdict"),
                         [c[1:] for c in DECISIONS], ids=[c[0] for c in DECISIONS])
def test_decision(items: int, nbytes: int, paused: bool, key_ok: bool, verdict: Verdict) -> None:
    pressure = BackPressure([], max_items=MAX_ITEMS, max_bytes=MAX_BYTES)
    assert pressure.judge(Pressure(items, nbytes), paused=paused, key_ok=key_ok) is verdict


def test_decide_sums_every_holder_and_a_new_one_is_one_line() -> None:
    counts = {"a": (10, 100), "b": (20, 4_000)}
    holders = [Held(name, (lambda n=name: counts[n][0]), (lambda n=name: counts[n][1]))
               for name in counts]
    pressure = BackPressure(holders, max_items=MAX_ITEMS, max_bytes=MAX_BYTES)
    assert pressure.decide(paused=False, key_ok=True) == (Verdict.KEEP, Pressure(30, 4_100))

    class Gate:  # what the per-contact ordering gate will be: two attributes
        held_items = 0
        held_bytes = 6_000

    pressure.add(Gate())
    assert pressure.decide(paused=False, key_ok=True) == (Verdict.PAUSE, Pressure(30, 10_100))
    counts["b"] = (0, 0)
    Gate.held_bytes = 0
    assert pressure.decide(paused=True, key_ok=True) == (Verdict.RESUME, Pressure(10, 100))


def test_marks_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        BackPressure([], max_items=0, max_bytes=1)


class _Sender:
    in_flight_items = 0
    in_flight_bytes = 0


class _DeadLetters:
    held_items = 0
    held_bytes = 0


def test_the_pipeline_holders_count_windows_in_flight_and_kept_messages() -> None:
    tracker = OffsetTracker()
    batcher = Batcher(max_items=500, max_bytes=2_000_000, linger_s=1.0, clock=lambda: 0.0)
    sender = _Sender()
    holders = pipeline_holders(
        batcher=batcher, sender=sender, dead_letter=_DeadLetters(),  # type: ignore[arg-type]
        decoding=ImmediateDecoding(decode_json), tracker=tracker,
    )
    pressure = BackPressure(holders, max_items=MAX_ITEMS, max_bytes=1 << 30)
    assert pressure.measure() == Pressure(0, 0)

    route = Route(index=0, name="s", action="track", path="/v1/activities/create",
                  config_hash="h")
    state = tracker.partition("t", 0)
    values = [b'{"type":"track","event":"%d"}' % i for i in range(4)]
    kept = 0
    for offset, value in enumerate(values):
        message = FakeMessage("t", 0, offset, value, key=b"k")
        ticket = state.dispatch(offset, 1, 0.0, message)
        assert ticket is not None
        kept += MESSAGE_OVERHEAD + len(value) + 1
        batcher.add(route, b'{"item":%d}' % offset, ticket)
    window = next(iter(batcher.windows().values()))
    assert pressure.measure() == Pressure(4, kept + window.nbytes)

    # Handed to the sender: the same items, their request's bytes.
    (batch,) = batcher.drain()
    sender.in_flight_items = len(batch)
    sender.in_flight_bytes = batch.nbytes
    assert pressure.measure() == Pressure(4, kept + window.nbytes)

    # Done: nothing is held any more.
    for ticket in batch.tickets:
        ticket.settle()
    sender.in_flight_items = sender.in_flight_bytes = 0
    assert pressure.measure() == Pressure(0, 0)
    assert state.pending_bytes == 0


def test_message_bytes_count_value_and_key() -> None:
    assert message_bytes(None) == 0
    assert message_bytes(FakeMessage("t", 0, 0, None)) == MESSAGE_OVERHEAD
    assert message_bytes(FakeMessage("t", 0, 0, b"x" * 1000, key=b"abc")) == \
        MESSAGE_OVERHEAD + 1003


def test_a_seek_backwards_forgets_the_bytes_of_the_old_epoch() -> None:
    state = OffsetTracker().partition("t", 0)
    state.dispatch(5, 1, 0.0, FakeMessage("t", 0, 5, b"x" * 100))
    assert state.pending_bytes == MESSAGE_OVERHEAD + 100
    state.dispatch(2, 0)  # a seek backwards
    assert state.pending_bytes == 0


# (max_pending_bytes, consumer properties, expected queue KiB, fetch bytes)
PREFETCH = [
    ("64 MiB", 64 << 20, {}, 8_192, 2 << 20),
    ("the default, 32 MiB", 32 << 20, {}, 4_096, 1 << 20),
    ("small: fetch floor at message.max.bytes", 4 << 20, {}, 512, 1_000_000),
    ("the minimum", 1 << 20, {}, 128, 1_000_000),
    ("large", 1 << 30, {}, 131_072, 32 << 20),
    ("the user's queue wins", 64 << 20, {"queued.max.messages.kbytes": "2048"}, 2_048, 2 << 20),
    ("the user's fetch wins", 64 << 20, {"fetch.max.bytes": 3_000_000}, 8_192, 3_000_000),
    ("message.max.bytes raises the fetch", 4 << 20, {"message.max.bytes": 3_000_000}, 512,
     3_000_000),
]


@pytest.mark.parametrize(("budget", "consumer", "queue_kib", "fetch"),
                         [c[1:] for c in PREFETCH], ids=[c[0] for c in PREFETCH])
def test_prefetch_is_sized_from_the_budget(
    budget: int, consumer: dict[str, object], queue_kib: int, fetch: int
) -> None:
    derived = prefetch_properties(budget)
    assert set(derived) == {
        "queued.max.messages.kbytes", "fetch.max.bytes", "fetch.queue.backoff.ms"}
    # The fetch counts decompressed (four times its bytes on the wire).
    assert prefetch_bytes(budget, consumer) == queue_kib * 1024 + 4 * fetch
    if not consumer:
        assert derived == {"queued.max.messages.kbytes": queue_kib, "fetch.max.bytes": fetch,
                           "fetch.queue.backoff.ms": 20}


def test_by_default_what_streamer_holds_gets_three_quarters_of_the_budget() -> None:
    budget = DeliveryConfig().max_pending_bytes
    assert budget - prefetch_bytes(budget, {}) == budget * 3 // 4


def test_max_pending_bytes_default_and_minimum() -> None:
    assert DeliveryConfig().max_pending_bytes == 32 * 1024 * 1024
    with pytest.raises(ValueError, match="max_pending_bytes"):
        DeliveryConfig(max_pending_bytes=1000)


def test_items_held_for_ordering_count_in_items_and_bytes() -> None:
    batcher = Batcher(max_items=500, max_bytes=2_000_000, linger_s=1.0, clock=lambda: 0.0)
    order = ContactOrder(batcher.add)
    pressure = BackPressure([order], max_items=MAX_ITEMS, max_bytes=1 << 30)
    route = Route(index=0, name="s", action="track", path="/v1/activities/create",
                  config_hash="h")
    state = PartitionOffsets(("t", 0))
    for offset in range(3):
        ticket = state.dispatch(offset, 1)
        assert ticket is not None
        order.add(route, b'{"item":%d}' % offset, ticket, "same-contact")
    assert pressure.measure() == Pressure(2, 2 * len(b'{"item":1}'))
