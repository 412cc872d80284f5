"""The dispatcher with the router's screen: the same outcomes as without it, only cheaper.

Two dispatchers get the same poll batches, one with ``Router.value_screen()`` and one without:
their items (by route and bytes, in order), dead letters (stage, reason, offset), counters and
commit points must be equal. The screen is used only after a batch that was at least half
filtered, and stops after one that was not.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from prometheus_client import CollectorRegistry

from streamer.app._dispatch import Dispatcher
from streamer.batching import Batcher
from streamer.observability import Metrics
from streamer.offsets import OffsetTracker
from streamer.routing import compile_router
from streamer.source import decode_json
from streamer.testing import FakeMessage, poison_values, sdk_events


class _Letters:
    def __init__(self) -> None:
        self.written: list[tuple[int, str, str]] = []

    def write(self, message: Any, rejection: Any, ticket: Any) -> None:
        self.written.append((message.offset(), rejection.stage, rejection.reason))
        ticket.settle()


class _Run:
    def __init__(self, *, screened: bool) -> None:
        router = compile_router(None)
        self.tracker = OffsetTracker()
        self.batcher = Batcher(max_items=500, max_bytes=2_000_000, linger_s=60.0,
                               clock=time.monotonic, route_limit=router.max_items)
        self.letters = _Letters()
        self.dispatcher = Dispatcher(
            decode=decode_json, route=router.route, tracker=self.tracker,
            batcher=self.batcher, dead_letter=self.letters,  # type: ignore[arg-type]
            metrics=Metrics(registry=CollectorRegistry()), clock=time.monotonic,
            screen=router.value_screen() if screened else None,
        )
        self.screening: list[bool] = []

    def process(self, messages: list[FakeMessage]) -> None:
        self.screening.append(self.dispatcher.screening)
        self.dispatcher.process(messages)

    def seen(self) -> tuple[Any, ...]:
        items = [(batch.route.name, list(batch.items)) for batch in self.batcher.drain()]
        d = self.dispatcher
        return (items, self.letters.written, d.consumed, d.filtered, d.turned_off,
                d.rejected_local, self.tracker.pending)


def _batches() -> list[list[FakeMessage]]:
    page_heavy = [orjson.dumps(e) for _k, e in sdk_events(900, mix="filter", seed=5)]
    delivering = [orjson.dumps(e) for _k, e in sdk_events(300, seed=6)]
    off = [b'{"type":"page","userId":"u","integrations":{"All":false}}',
           b'{"type":"track","event":"E","userId":"u","integrations":{"Ortto":false}}']
    poison = list(poison_values().values())
    values = [
        page_heavy[:300],  # not screened (nothing seen yet), then screening on
        page_heavy[300:600] + poison + off,  # screened, refusals and turned off among them
        delivering,  # screened; mostly delivered: screening off
        page_heavy[600:] + poison,  # not screened
        off * 50,  # screened; the track events are turned off too
    ]
    batches, offset = [], 0
    for chunk in values:
        batches.append([FakeMessage("t", 0, offset + n, v) for n, v in enumerate(chunk)])
        offset += len(chunk)
    return batches


def test_the_screen_changes_no_outcome_and_is_used_after_filtered_batches() -> None:
    with_screen, without = _Run(screened=True), _Run(screened=False)
    for batch in _batches():
        with_screen.process(batch)
        without.process(batch)
    assert with_screen.screening == [False, True, True, False, True]
    assert without.screening == [False] * 5
    seen = with_screen.seen()
    assert seen == without.seen()
    items, letters, consumed, filtered, turned_off, _rejected, _pending = seen
    assert consumed == 300 + 300 + 6 + 2 + 300 + 300 + 6 + 100
    assert turned_off == 2 + 100
    assert filtered - turned_off > 800  # the page and screen events
    assert {reason for _offset, _stage, reason in letters} >= {
        "invalid_json", "invalid_utf8", "too_deep", "not_object"}
    assert sum(len(batch) for _route, batch in items) > 300


def test_values_other_than_json_are_never_screened() -> None:
    router = compile_router(None)
    dispatcher = Dispatcher(
        decode=lambda value: {"type": "page"}, route=router.route, tracker=OffsetTracker(),
        batcher=Batcher(max_items=500, max_bytes=2_000_000, linger_s=60.0, clock=time.monotonic,
                        route_limit=router.max_items),
        dead_letter=None,  # type: ignore[arg-type]
        metrics=Metrics(registry=CollectorRegistry()), clock=time.monotonic,
        screen=router.value_screen(),
    )
    dispatcher.process([FakeMessage("t", 0, n, b"\x00avro") for n in range(10)])
    assert dispatcher.filtered == 10 and not dispatcher.screening
