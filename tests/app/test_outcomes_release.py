"""An answer that confirms ordered items lets the pipeline send the windows it refilled at once.

The gate (``batching/_ordering.py``) releases a contact's next item into its window when the
previous one's fate is known; ``Outcomes`` then calls ``on_released`` so that a window filled by
released items goes out now, not after the pipeline's next poll (with consumption paused, a
poll's whole wait, paid again by every later item of the same contacts).
"""

from __future__ import annotations

from typing import Any

from streamer.app._outcomes import Outcomes
from streamer.batching import Batch, Batcher, ContactOrder
from streamer.deadletter import Rejection
from streamer.observability import Metrics
from streamer.offsets import OffsetTracker
from streamer.routing._types import Route
from streamer.testing import FakeMessage
from streamer.testing._clock import FakeClock

IDENTIFY = Route(0, "identify", "upsertContactProfile", "/identify")


class _Letters:
    pending = 0

    def __init__(self) -> None:
        self.written: list[Rejection] = []

    def write(self, message: Any, rejection: Rejection, ticket: Any, **_: Any) -> None:
        self.written.append(rejection)
        ticket.settle()


def _setup(max_items: int) -> tuple[Batcher, ContactOrder, Outcomes, list[int], _Letters, Any]:
    batcher = Batcher(max_items=max_items, max_bytes=100_000, linger_s=60.0, clock=FakeClock())
    order = ContactOrder(batcher.add)
    calls: list[int] = []
    letters = _Letters()
    outcomes = Outcomes(dead_letter=letters, metrics=Metrics(),  # type: ignore[arg-type]
                        on_auth_changed=lambda ok: None, order=order,
                        on_released=lambda: calls.append(len(batcher.ready)))
    state = OffsetTracker().partition("events", 0)
    return batcher, order, outcomes, calls, letters, state


def _add(order: ContactOrder, state: Any, offset: int, contact: str) -> None:
    ticket = state.dispatch(offset, 1, 0.0, FakeMessage("events", 0, offset, b"{}"))
    order.add(IDENTIFY, b'{"o":%d}' % offset, ticket, contact)


def test_a_delivered_answer_hands_the_refilled_window_over_at_once() -> None:
    batcher, order, outcomes, calls, _, state = _setup(max_items=2)
    for offset, contact in enumerate(["a", "b", "a", "b"]):
        _add(order, state, offset, contact)
    (first,) = batcher.take_ready()  # a and b, one each; their second items are held
    assert order.held == 2 and calls == []

    outcomes.delivered(first, None, 0.01)

    # Both held items were released into a window that filled: ready when the hook ran.
    assert calls == [1]
    (second,) = batcher.take_ready()
    assert second.items == [b'{"o":2}', b'{"o":3}'] and order.held == 0


def test_a_refusal_and_an_abandoned_item_release_too() -> None:
    batcher, order, outcomes, calls, letters, state = _setup(max_items=1)
    for offset, contact in enumerate(["a", "a", "a"]):
        _add(order, state, offset, contact)
    (first,) = batcher.take_ready()
    outcomes.rejected(first, 0, status=400, message="bad email", reason="validation")
    assert calls == [1] and len(letters.written) == 1
    (second,) = batcher.take_ready()
    assert second.items == [b'{"o":1}']
    outcomes.abandoned(second, [0])
    assert calls == [1, 1]
    (third,) = batcher.take_ready()
    assert third.items == [b'{"o":2}']


def test_without_the_gate_nothing_is_called() -> None:
    batcher = Batcher(max_items=1, max_bytes=100_000, linger_s=60.0, clock=FakeClock())
    calls: list[int] = []
    outcomes = Outcomes(dead_letter=None, metrics=Metrics(),  # type: ignore[arg-type]
                        on_auth_changed=lambda ok: None, on_released=lambda: calls.append(1))
    state = OffsetTracker().partition("events", 0)
    ticket = state.dispatch(0, 1, 0.0, FakeMessage("events", 0, 0, b"{}"))
    assert ticket is not None
    batcher.add(IDENTIFY, b"{}", ticket)
    (batch,) = batcher.take_ready()
    assert isinstance(batch, Batch)
    outcomes.delivered(batch, None, 0.01)
    assert calls == [] and state.pending == 0
