"""The sender's reading of each kind of answer, over real HTTP (a loopback server answering
with the test's function of an ``httpx.Request``; the integration tests use the real sandbox)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

import httpx
import orjson
import pytest

from streamer.batching import Batch
from streamer.offsets import PartitionOffsets
from streamer.routing._types import Route
from streamer.sender import Governor, OrttoClient, RetryPolicy, Sender

from ._loopback import HttpxHandler, serving_httpx

ROUTE = Route(0, "track", "trackActivity", "/track")


class Sink:
    """Records what the sender reports, and settles tickets like the pipeline does."""

    def __init__(self) -> None:
        self.accepted: list[bytes] = []
        self.refused: list[tuple[bytes, int | None, str, str]] = []
        self.error_classes: list[str | None] = []
        self.retried = 0
        self.abandoned_items: list[bytes] = []
        self.auth: list[bool] = []

    def delivered(self, batch: Batch, indexes: Sequence[int] | None, seconds: float) -> None:
        for i in range(len(batch)) if indexes is None else indexes:
            self.accepted.append(batch.items[i])
            batch.tickets[i].settle()

    def rejected(self, batch: Batch, index: int, *, status: int | None, message: str,
                 reason: str, error_class: str | None = None) -> None:
        self.refused.append((batch.items[index], status, message, reason))
        self.error_classes.append(error_class)
        batch.tickets[index].settle()

    def retrying(self, batch: Batch, count: int, reason: str) -> None:
        self.retried += count

    def abandoned(self, batch: Batch, indexes: Sequence[int]) -> None:
        self.abandoned_items.extend(batch.items[i] for i in indexes)

    def auth_changed(self, ok: bool) -> None:
        self.auth.append(ok)


def _batch(n: int, state: PartitionOffsets | None = None) -> Batch:
    state = state or PartitionOffsets(("t", 0))
    batch = Batch(ROUTE, 0.0)
    for i in range(n):
        ticket = state.dispatch(i, 1)
        assert ticket is not None
        batch.append(orjson.dumps({"i": i}), ticket)
    return batch


async def _deliver(handler: HttpxHandler, batch: Batch, *, budget: float = 5.0,
                   read_timeout_s: float = 30.0) -> tuple[Sink, Sender]:
    sink = Sink()
    async with serving_httpx(handler) as url:
        client = OrttoClient("pau-test", endpoint=url, read_timeout_s=read_timeout_s)
        sender = Sender(
            client, sink,
            policy=RetryPolicy(budget_s=budget, initial_s=0.001, max_s=0.01,
                               rng=random.Random(1)),
            governor=Governor(max_in_flight=4), probe_initial_s=0.01, probe_max_s=0.02,
        )
        sender.submit(batch)
        assert await sender.drain(10.0)
        await sender.aclose()
        await client.aclose()
    return sink, sender


def _items(request: httpx.Request) -> list[dict[str, int]]:
    return list(orjson.loads(request.content))


def test_all_accepted() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/track"
        assert request.headers["authorization"] == "Bearer pau-test"
        return httpx.Response(200, json={"errors": []})

    batch = _batch(3)
    sink, sender = asyncio.run(_deliver(handler, batch))
    assert len(sink.accepted) == 3 and not sink.refused
    assert sender.in_flight_items == 0 and sender.in_flight_bytes == 0
    assert batch.tickets[0].partition.committable() == 3


def test_multi_status_rejects_4xx_and_retries_only_retryable_items() -> None:
    calls: list[list[dict[str, int]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        items = _items(request)
        calls.append(items)
        if len(calls) == 1:
            return httpx.Response(207, json={"errors": [
                {"index": 1, "status": 400, "message": "bad email"},
                {"index": 2, "status": 503, "message": "busy"},
            ]})
        return httpx.Response(200, json={"errors": []})

    sink, sender = asyncio.run(_deliver(handler, _batch(4)))
    assert calls[1] == [{"i": 2}]  # only the retryable item went again
    assert sorted(sink.accepted) == [b'{"i":0}', b'{"i":2}', b'{"i":3}']
    assert sink.refused == [(b'{"i":1}', 400, "bad email", "rejected")]
    assert sink.retried == 1
    assert sender.in_flight_items == 0 and sender.in_flight_bytes == 0


def test_whole_request_5xx_and_429_are_retried_honouring_the_hint() -> None:
    answers = iter([
        httpx.Response(503),
        httpx.Response(429, headers={"Retry-After": "0"},
                       json={"error": {"code": "rate-limit", "try-in-seconds": 0.05}}),
        httpx.Response(200, json={}),
    ])
    times: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(asyncio.get_event_loop().time())
        return next(answers)

    sink, _ = asyncio.run(_deliver(handler, _batch(2)))
    assert len(sink.accepted) == 2
    assert times[2] - times[1] >= 0.045


def test_timeouts_are_retried() -> None:
    count = 0
    reasons: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        if count < 3:
            await asyncio.Event().wait()  # never answered: cancelled when the client gives up
        return httpx.Response(200, json={"errors": []})

    class Reasons(Sink):
        def retrying(self, batch: Batch, count: int, reason: str) -> None:
            reasons.append(reason)

    async def scenario() -> Sink:
        sink = Reasons()
        async with serving_httpx(handler) as url:
            client = OrttoClient("pau-test", endpoint=url, read_timeout_s=0.2)
            sender = Sender(client, sink, policy=RetryPolicy(initial_s=0.001, max_s=0.01),
                            governor=Governor(max_in_flight=4))
            sender.submit(_batch(1))
            assert await sender.drain(10.0)
            await client.aclose()
        return sink

    sink = asyncio.run(scenario())
    assert count == 3 and len(sink.accepted) == 1
    assert len(reasons) == 2 and all(r.startswith("POST /track timed out: ") for r in reasons)


def test_413_splits_until_the_single_item_is_rejected() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        items = _items(request)
        if any(item["i"] == 2 for item in items) or len(items) > 2:
            return httpx.Response(413)
        return httpx.Response(200, json={"errors": []})

    sink, _ = asyncio.run(_deliver(handler, _batch(5)))
    assert sorted(sink.accepted) == [b'{"i":0}', b'{"i":1}', b'{"i":3}', b'{"i":4}']
    assert [(r[0], r[1], r[3]) for r in sink.refused] == [(b'{"i":2}', 413, "payload_too_large")]


def test_other_4xx_rejects_the_whole_request() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, text="body must be an array")

    sink, _ = asyncio.run(_deliver(handler, _batch(2)))
    assert [(r[1], r[2]) for r in sink.refused] == [(400, "body must be an array")] * 2


def test_budget_exhausted_dead_letters_with_reason() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500)

    sink, _ = asyncio.run(_deliver(handler, _batch(2), budget=0.05))
    assert {r[3] for r in sink.refused} == {"retries_exhausted"}
    assert len(sink.refused) == 2 and not sink.accepted


def test_refused_key_pauses_probes_and_resumes_without_dead_lettering() -> None:
    state = {"key_ok": False, "probes": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/me":
            state["probes"] += 1
            if state["probes"] >= 2:
                state["key_ok"] = True
            return httpx.Response(200 if state["key_ok"] else 401)
        if not state["key_ok"]:
            return httpx.Response(401)
        return httpx.Response(200, json={"errors": []})

    sink, sender = asyncio.run(_deliver(handler, _batch(3), budget=0.001))
    assert sink.auth == [False, True]
    assert len(sink.accepted) == 3 and not sink.refused
    assert sender.key_ok


@pytest.mark.parametrize(("status", "verdict"), [
    (200, "answered"), (207, "answered"), (401, "auth"), (403, "auth"), (413, "split"),
    (429, "retry"), (500, "retry"), (501, "reject"), (502, "retry"), (511, "retry"),
    (408, "retry"), (423, "retry"), (400, "reject"), (404, "reject"), (422, "reject"),
])
def test_verdict_table(status: int, verdict: str) -> None:
    assert RetryPolicy().verdict(status).value == verdict


def test_each_endpoint_has_its_own_governor() -> None:
    from streamer.sender import Governors

    governors = Governors(max_in_flight=4)
    track = governors.for_path("/v1/track")
    assert governors.for_path("/v1/track") is track
    identify = governors.for_path("/v1/identify")
    assert identify is not track
    track.in_flight = 1
    track.release(congested=True, latency_s=0.01)
    assert track.limit == 2.0
    assert identify.limit == 4.0


def test_a_budget_of_none_never_runs_out() -> None:
    from streamer.sender import RetryPolicy

    policy = RetryPolicy(budget_s=None)
    assert not policy.exhausted(0.0, 1e9, 1e9)
    assert RetryPolicy(budget_s=10).exhausted(0.0, 9.0, 2.0)


def test_a_retry_drops_items_of_partitions_revoked_meanwhile() -> None:
    from streamer.offsets import OffsetTracker

    tracker = OffsetTracker()
    tracker.assign([("t", 0), ("t", 1)])
    kept, lost = tracker.partition("t", 0), tracker.partition("t", 1)
    batch = Batch(ROUTE, 0.0)
    for offset in range(2):
        for state in (kept, lost):
            ticket = state.dispatch(offset, 1)
            assert ticket is not None
            batch.append(orjson.dumps({"p": state.key[1], "o": offset}), ticket)
    calls: list[list[dict[str, int]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(list(orjson.loads(request.content)))
        if len(calls) == 1:
            tracker.revoke([("t", 1)])  # the rebalance happens while the request fails
            return httpx.Response(503)
        return httpx.Response(200, json={"errors": []})

    sink, sender = asyncio.run(_deliver(handler, batch))
    assert len(sink.accepted) == 2 and not sink.refused
    assert len(calls[0]) == 4
    assert calls[1] == [{"p": 0, "o": 0}, {"p": 0, "o": 1}]
    # The dropped items are reported (the ordering gate releases their contacts' next items).
    assert [orjson.loads(i) for i in sink.abandoned_items] == [{"p": 1, "o": 0}, {"p": 1, "o": 1}]
    assert sender.in_flight_items == 0 and sender.in_flight_bytes == 0
    assert kept.committable() == 2
