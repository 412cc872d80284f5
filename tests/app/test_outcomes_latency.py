"""The end-to-end latency of delivered items: Kafka timestamp to Ortto's answer, per item."""

from __future__ import annotations

from typing import Any

from streamer.app._outcomes import Outcomes
from streamer.batching import Batch
from streamer.observability import Metrics
from streamer.offsets import OffsetTracker
from streamer.routing import compile_router
from streamer.testing import FakeMessage


class _NoStamp(FakeMessage):
    def timestamp(self) -> tuple[int, int]:
        return (0, -1)  # TIMESTAMP_NOT_AVAILABLE


def test_each_item_is_observed_from_its_timestamp_future_ones_as_zero() -> None:
    now_s = 1_800_000_000.0
    metrics = Metrics()
    no_dead_letters: Any = None  # every item here is delivered
    outcomes = Outcomes(dead_letter=no_dead_letters, metrics=metrics,
                        on_auth_changed=lambda ok: None, wall_clock=lambda: now_s)
    state = OffsetTracker().partition("events", 0)
    batch = Batch(compile_router(None).routes[0], 0.0)
    stamps_ms = [now_s * 1000 - 250, now_s * 1000 - 4_000, now_s * 1000 + 900]  # last: clock skew
    messages: list[FakeMessage] = [
        FakeMessage("events", 0, n, b"{}", timestamp_ms=int(stamp))
        for n, stamp in enumerate(stamps_ms)]
    messages.append(_NoStamp("events", 0, 3, b"{}"))
    for n, message in enumerate(messages):
        ticket = state.dispatch(n, 1, 0.0, message)
        assert ticket is not None
        batch.append(b"{}", ticket)

    outcomes.delivered(batch, None, 0.05)

    histogram = metrics.end_to_end
    assert histogram.count == 3  # the message without a timestamp is not observed
    assert abs(histogram._sum - 4.25) < 1e-9  # 0.25 + 4.0 + 0 (a future timestamp counts 0)
    assert state.pending == 0 and state.committable() == 4
