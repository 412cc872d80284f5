"""No delivery dies silently: every failure of the HTTP client is a retried request failure that
names its class; the governor's place and the in-flight count come back on every path; a bug
that escapes a delivery task is latched and raised. The failures a real server can cause go
over real loopback HTTP (aiohttp); the others (any exception at all, a bare OSError) are raised
by an ``httpx.MockTransport`` handed to the client."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import httpx
import pytest
from aiohttp import web

from streamer import DeliveryError
from streamer.batching import Batch
from streamer.sender import Governor, OrttoClient, RetryPolicy, Sender, TokenBucket

from ._loopback import serving, serving_httpx
from .test_sender import Sink, _batch

KEY = "pau-secret-key-value"


class ReasonSink(Sink):
    def __init__(self) -> None:
        super().__init__()
        self.reasons: list[str] = []

    def retrying(self, batch: Batch, count: int, reason: str) -> None:
        super().retrying(batch, count, reason)
        self.reasons.append(reason)


def _garbled_gzip(request: httpx.Request) -> httpx.Response:
    # A body that says gzip and is not: httpx raises DecodingError while reading it.
    return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"not gzip at all")


Handler = Callable[[httpx.Request], httpx.Response]


def _raiser(exc: Callable[[httpx.Request], BaseException]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc(request)

    return handler


FAILURES: list[tuple[str, Callable[[httpx.Request], httpx.Response], str]] = [
    ("decoding", _garbled_gzip, "DecodingError"),
    ("protocol", _raiser(lambda r: httpx.RemoteProtocolError("peer closed", request=r)),
     "RemoteProtocolError"),
    ("connect", _raiser(lambda r: httpx.ConnectError("refused", request=r)), "ConnectError"),
    ("timeout", _raiser(lambda r: httpx.ReadTimeout("slow", request=r)), "ReadTimeout"),
    ("anything else", _raiser(lambda r: ValueError("odd header")), "ValueError"),
    ("an OS error", _raiser(lambda r: OSError(99, "Cannot assign requested address")),
     "OSError"),
]


def _sender(handler: Callable[[httpx.Request], httpx.Response], sink: Sink, *,
            budget: float = 5.0, governor: Governor | None = None,
            rate: TokenBucket | None = None,
            requests: list[tuple[str, str]] | None = None) -> tuple[Sender, OrttoClient]:
    client = OrttoClient(KEY, endpoint="http://sandbox.invalid/v1",
                         transport=httpx.MockTransport(handler), rate=rate)
    sender = Sender(
        client, sink,
        policy=RetryPolicy(budget_s=budget, initial_s=0.001, max_s=0.01, rng=random.Random(1)),
        governor=governor or Governor(max_in_flight=4),
        on_request=None if requests is None else lambda p, o, _n, _s: requests.append((p, o)),
    )
    return sender, client


@pytest.mark.parametrize(("failing", "name"), [f[1:] for f in FAILURES],
                         ids=[f[0] for f in FAILURES])
def test_each_kind_of_client_failure_is_retried_and_named(
    failing: Callable[[httpx.Request], httpx.Response], name: str
) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return failing(request)
        return httpx.Response(200, json={"errors": []})

    async def scenario() -> tuple[ReasonSink, Sender, Governor]:
        sink, governor = ReasonSink(), Governor(max_in_flight=4)
        sender, client = _sender(handler, sink, governor=governor)
        sender.submit(_batch(2))
        assert await sender.drain(10.0)
        await sender.aclose()
        await client.aclose()
        return sink, sender, governor

    sink, sender, governor = asyncio.run(scenario())
    assert len(sink.accepted) == 2 and not sink.refused
    assert len(sink.reasons) == 1
    assert sink.reasons[0].startswith("POST /track ") and name in sink.reasons[0]
    assert KEY not in sink.reasons[0]
    assert sender.failure is None
    assert (sender.in_flight_items, governor.in_flight) == (0, 0)


async def _garbled_over_http(request: web.Request) -> web.Response:
    return web.Response(body=b"not gzip at all", headers={"Content-Encoding": "gzip"})


async def _unanswered(request: web.Request) -> web.Response:
    await asyncio.Event().wait()  # cancelled when the client gives up
    return web.Response()


async def _closed(request: web.Request) -> web.Response:
    assert request.transport is not None
    request.transport.close()  # no answer at all
    return web.Response()


@pytest.mark.parametrize(("failing", "name", "what"), [
    (_garbled_over_http, "ClientPayloadError", "failed"),
    (_unanswered, "Timeout", "timed out"),
    (_closed, "ServerDisconnectedError", "failed"),
], ids=["undecodable body", "no answer in read_timeout_s", "connection closed"])
def test_each_kind_of_real_http_failure_is_retried_and_named(
    failing: Callable[[web.Request], Awaitable[web.Response]], name: str, what: str
) -> None:
    calls = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        await request.read()
        if calls == 1:
            return await failing(request)
        return web.json_response({"errors": []})

    async def scenario() -> tuple[ReasonSink, Sender, Governor]:
        sink, governor = ReasonSink(), Governor(max_in_flight=4)
        async with serving(handler) as url:
            client = OrttoClient(KEY, endpoint=url, read_timeout_s=0.2)
            sender = Sender(client, sink, governor=governor, policy=RetryPolicy(
                budget_s=5.0, initial_s=0.001, max_s=0.01, rng=random.Random(1)))
            sender.submit(_batch(2))
            assert await sender.drain(10.0)
            await client.aclose()
        return sink, sender, governor

    sink, sender, governor = asyncio.run(scenario())
    assert len(sink.accepted) == 2 and not sink.refused
    (reason,) = sink.reasons
    assert reason.startswith(f"POST /track {what}: ") and name in reason
    assert KEY not in reason
    assert sender.failure is None
    assert (sender.in_flight_items, governor.in_flight) == (0, 0)


def test_a_refused_connection_dead_letters_without_a_status_but_with_its_class() -> None:
    # Nothing listens on the port of a server that has stopped.
    async def scenario() -> tuple[ReasonSink, list[tuple[str, str]]]:
        sink, requests = ReasonSink(), []
        async with serving_httpx(lambda _: httpx.Response(200)) as url:
            pass
        client = OrttoClient(KEY, endpoint=url)
        sender = Sender(
            client, sink, governor=Governor(max_in_flight=4),
            policy=RetryPolicy(budget_s=0.02, initial_s=0.001, max_s=0.01, rng=random.Random(1)),
            on_request=lambda p, o, _n, _s: requests.append((p, o)),
        )
        sender.submit(_batch(2))
        assert await sender.drain(10.0)
        await client.aclose()
        return sink, requests

    sink, requests = asyncio.run(scenario())
    assert [(status, reason) for _, status, _, reason in sink.refused] == [
        (None, "retries_exhausted")] * 2
    assert sink.error_classes == ["ClientConnectorError"] * 2
    message = sink.refused[0][2]
    assert "last failure: POST /track failed: ClientConnectorError: " in message
    assert "(Connection refused)" in message and KEY not in message
    assert requests and set(requests) == {("/track", "error")}


def test_a_connection_failure_dead_letters_without_a_status_but_with_its_class() -> None:
    sink = ReasonSink()
    requests: list[tuple[str, str]] = []
    handler = _raiser(lambda r: httpx.ConnectError("connection refused", request=r))

    async def scenario() -> Sender:
        sender, client = _sender(handler, sink, budget=0.02, requests=requests)
        sender.submit(_batch(2))
        assert await sender.drain(10.0)
        await client.aclose()
        return sender

    sender = asyncio.run(scenario())
    assert [(status, reason) for _, status, _, reason in sink.refused] == [
        (None, "retries_exhausted")] * 2
    assert sink.error_classes == ["ConnectError"] * 2
    message = sink.refused[0][2]
    assert message.startswith("retries exhausted after ")
    assert "last failure: POST /track failed: ConnectError: connection refused" in message
    assert sender.in_flight_items == 0 and sender.in_flight_bytes == 0
    assert requests and set(requests) == {("/track", "error")}


def test_an_exhausted_http_failure_keeps_its_status_and_no_class() -> None:
    sink = ReasonSink()

    async def scenario() -> None:
        sender, client = _sender(lambda r: httpx.Response(503), sink, budget=0.02)
        sender.submit(_batch(1))
        assert await sender.drain(10.0)
        await client.aclose()

    asyncio.run(scenario())
    assert [(s, r) for _, s, _, r in sink.refused] == [(503, "retries_exhausted")]
    assert sink.error_classes == [None]
    assert "last failure: HTTP 503" in sink.refused[0][2]


def test_every_request_is_counted_by_endpoint_and_outcome() -> None:
    answers = iter([httpx.Response(503), httpx.Response(429, headers={"Retry-After": "0"}),
                    httpx.Response(200, json={"errors": []})])
    requests: list[tuple[str, str]] = []

    async def scenario() -> None:
        sender, client = _sender(lambda r: next(answers), Sink(), requests=requests)
        sender.submit(_batch(1))
        assert await sender.drain(10.0)
        await client.aclose()

    asyncio.run(scenario())
    assert requests == [("/track", "5xx"), ("/track", "429"), ("/track", "2xx")]


def test_a_task_cancelled_while_waiting_for_a_token_gives_everything_back() -> None:
    governor = Governor(max_in_flight=4)
    rate = TokenBucket(0.01)  # one token, then one per 100 s

    async def scenario() -> Sender:
        sender, client = _sender(lambda r: httpx.Response(200, json={"errors": []}), Sink(),
                                 governor=governor, rate=rate)
        sender.submit(_batch(1))  # takes the only token
        sender.submit(_batch(3))  # waits for the next one, holding a place
        while governor.in_flight < 1 or len(sender._tasks) > 1:
            await asyncio.sleep(0.01)
        assert sender.in_flight_items == 3
        await sender.aclose()  # shutdown cancels it mid-wait
        await client.aclose()
        return sender

    sender = asyncio.run(scenario())
    assert (sender.in_flight_items, governor.in_flight) == (0, 0)
    assert sender.failure is None  # a cancellation is not a failure


class BrokenSink(Sink):
    def delivered(self, batch: Batch, indexes: object, seconds: float) -> None:
        raise RuntimeError("a bug in the sink")


def test_a_bug_escaping_a_delivery_task_is_latched_and_raised() -> None:
    governor = Governor(max_in_flight=4)

    async def scenario() -> Sender:
        sender, client = _sender(lambda r: httpx.Response(200, json={"errors": []}),
                                 BrokenSink(), governor=governor)
        sender.submit(_batch(2))
        assert await sender.drain(10.0)
        await client.aclose()
        return sender

    sender = asyncio.run(scenario())
    assert isinstance(sender.failure, RuntimeError)
    with pytest.raises(DeliveryError, match="RuntimeError: a bug in the sink") as raised:
        sender.raise_if_failed()
    assert raised.value.__cause__ is sender.failure
    assert (sender.in_flight_items, governor.in_flight) == (0, 0)


def test_every_request_reports_its_items_and_duration_failed_ones_included() -> None:
    # A request that fails without an answer after 50 ms (a timeout), then a 503 and a 200:
    # each is reported with the batch's items and how long it took.
    calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(0.05)
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(503) if calls == 2 else httpx.Response(200, json={"errors": []})

    seen: list[tuple[str, str, int, float]] = []

    async def scenario() -> None:
        client = OrttoClient(KEY, endpoint="http://sandbox.invalid/v1",
                             transport=httpx.MockTransport(handler))
        sender = Sender(
            client, Sink(),
            policy=RetryPolicy(budget_s=5.0, initial_s=0.001, max_s=0.01, rng=random.Random(1)),
            governor=Governor(max_in_flight=4),
            on_request=lambda *report: seen.append(report),
        )
        sender.submit(_batch(3))
        assert await sender.drain(10.0)
        await client.aclose()

    asyncio.run(scenario())
    assert [(p, c, n) for p, c, n, _ in seen] == [
        ("/track", "error", 3), ("/track", "5xx", 3), ("/track", "2xx", 3)]
    assert seen[0][3] >= 0.05 and all(s >= 0 for *_, s in seen)
