"""OrttoClient over real HTTP (an aiohttp server on a free loopback port, in the test's loop):
what it sends, what it reads back, and how each failure of the connection becomes a
RequestError that names the exception's class and the OS's words, never the key."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from streamer import AuthenticationError, RequestError
from streamer.sender import OrttoClient, retry_after_seconds

from ._loopback import serving

KEY = "pau-secret-key-value"


@contextlib.asynccontextmanager
async def client_of(url: str, **options: float) -> AsyncIterator[OrttoClient]:
    client = OrttoClient(KEY, endpoint=url, **options)  # type: ignore[arg-type]
    try:
        yield client
    finally:
        await client.aclose()


def test_a_post_sends_the_body_with_the_key_and_reads_status_headers_and_body() -> None:
    seen: list[tuple[str, str, dict[str, str], bytes]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.method, request.path, dict(request.headers), await request.read()))
        return web.Response(status=429, body=b'{"error": {"try-in-seconds": 2}}',
                            headers={"Retry-After": "3", "Content-Type": "application/json"})

    async def scenario() -> tuple[int, str | None, float | None, bytes, float]:
        async with serving(handler) as url, client_of(url) as client:
            result = await client.post("/identify", b'[{"email": "a@example.com"}]')
        hint = retry_after_seconds(result.headers, result.body)
        return (result.status, result.headers.get("retry-after"), hint, result.body,
                result.seconds)

    status, header, hint, body, seconds = asyncio.run(scenario())
    assert (status, header, hint) == (429, "3", 3.0)  # the headers read case-insensitively
    assert body == b'{"error": {"try-in-seconds": 2}}'
    assert seconds > 0
    ((method, path, headers, sent),) = seen
    assert (method, path, sent) == ("POST", "/v1/identify", b'[{"email": "a@example.com"}]')
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "streamer"
    assert "Cookie" not in headers


def test_a_compressed_answer_is_decoded_and_a_redirect_is_not_followed() -> None:
    async def handler(request: web.Request) -> web.Response:
        if request.path.endswith("/track"):
            return web.Response(status=302, headers={"Location": "/elsewhere"})
        return web.Response(body=gzip.compress(b'{"errors": []}'),
                            headers={"Content-Encoding": "gzip"})

    async def scenario() -> tuple[bytes, int]:
        async with serving(handler) as url, client_of(url) as client:
            identify = await client.post("/identify", b"[]")
            track = await client.post("/track", b"[]")
        return identify.body, track.status

    assert asyncio.run(scenario()) == (b'{"errors": []}', 302)


def test_connections_are_kept_alive_and_bounded_by_max_connections() -> None:
    peers: set[object] = set()
    active = peak = 0
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        nonlocal active, peak
        peers.add(request.transport.get_extra_info("peername") if request.transport else None)
        active += 1
        peak = max(peak, active)
        await request.read()
        await release.wait()
        active -= 1
        return web.Response(body=b'{"errors": []}')

    async def scenario() -> list[int]:
        async with serving(handler) as url, client_of(url, max_connections=2) as client:
            posts = [asyncio.ensure_future(client.post("/track", b"[]")) for _ in range(5)]
            for _ in range(1000):  # until two requests are held by the server
                if active == 2:
                    break
                await asyncio.sleep(0.01)
            release.set()
            return [result.status for result in await asyncio.gather(*posts)]

    assert asyncio.run(scenario()) == [200] * 5
    assert peak == 2 and len(peers) == 2  # five requests over two connections


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_connection_names_its_class_and_the_os_words_without_the_key() -> None:
    async def scenario() -> RequestError:
        async with client_of(f"http://127.0.0.1:{_free_port()}/v1") as client:
            with pytest.raises(RequestError) as caught:
                await client.post("/track", b"[]")
        return caught.value

    error = asyncio.run(scenario())
    assert error.error_class == "ClientConnectorError" and error.status is None
    assert str(error).startswith("POST /track failed: ClientConnectorError: ")
    assert "(Connection refused)" in str(error)
    assert KEY not in str(error)


def test_an_answer_slower_than_read_timeout_s_times_out() -> None:
    async def handler(request: web.Request) -> web.Response:
        await asyncio.Event().wait()  # cancelled when the client gives up
        return web.Response()

    async def scenario() -> RequestError:
        async with serving(handler) as url, client_of(url, read_timeout_s=0.2) as client:
            with pytest.raises(RequestError) as caught:
                await client.post("/track", b"[]")
        return caught.value

    error = asyncio.run(scenario())
    assert str(error).startswith("POST /track timed out: ")
    assert error.error_class is not None and "Timeout" in error.error_class


def test_a_server_that_closes_without_answering_or_garbles_gzip_is_a_request_error() -> None:
    async def close_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    async def garbled(request: web.Request) -> web.Response:
        return web.Response(body=b"not gzip at all", headers={"Content-Encoding": "gzip"})

    async def scenario() -> list[RequestError]:
        errors = []
        server = await asyncio.start_server(close_at_once, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with client_of(f"http://127.0.0.1:{port}/v1") as client:
                with pytest.raises(RequestError) as closed:
                    await client.post("/track", b"[]")
                errors.append(closed.value)
        finally:
            server.close()
            await server.wait_closed()
        async with serving(garbled) as url, client_of(url) as client:
            with pytest.raises(RequestError) as undecodable:
                await client.post("/track", b"[]")
            errors.append(undecodable.value)
        return errors

    closed, undecodable = asyncio.run(scenario())
    assert closed.error_class == "ServerDisconnectedError"
    assert str(closed).startswith("POST /track failed: ServerDisconnectedError")
    assert undecodable.error_class == "ClientPayloadError"
    assert "gzip" in str(undecodable)


def test_a_cancelled_post_is_cancelled_and_the_pool_serves_the_next() -> None:
    held, release = asyncio.Event(), asyncio.Event()
    calls = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        await request.read()
        if calls == 1:
            held.set()
            await release.wait()  # the first request is not answered before it is cancelled
        return web.Response(body=b'{"errors": []}')

    async def scenario() -> int:
        async with serving(handler) as url, client_of(url, max_connections=1) as client:
            first = asyncio.ensure_future(client.post("/track", b"[]"))
            await held.wait()
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
            status = (await client.post("/track", b"[]")).status
            release.set()
            return status

    assert asyncio.run(scenario()) == 200


def test_the_key_check_and_audiences_go_over_the_same_client() -> None:
    async def handler(request: web.Request) -> web.Response:
        if request.path == "/v1/me":
            return web.Response(status=401)
        assert await request.json() == {"name": "Buyers"}
        return web.json_response({"id": "aud-1", "name": "Buyers"})

    async def scenario() -> tuple[AuthenticationError, str]:
        async with serving(handler) as url, client_of(url) as client:
            with pytest.raises(AuthenticationError) as refused:
                await client.check_key()
            return refused.value, await client.create_audience("Buyers")

    refused, audience = asyncio.run(scenario())
    assert refused.status == 401 and KEY not in str(refused)
    assert audience == "aud-1"


def test_the_key_is_scrubbed_from_an_exception_that_quotes_it() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused: {request.headers['authorization']}", request=request)

    async def scenario() -> RequestError:
        client = OrttoClient(KEY, endpoint="http://127.0.0.1:9/v1",
                             transport=httpx.MockTransport(handler))
        try:
            with pytest.raises(RequestError) as caught:
                await client.post("/track", b"[]")
        finally:
            await client.aclose()
        return caught.value

    error = asyncio.run(scenario())
    assert KEY not in str(error)
    assert "refused: Bearer ***" in str(error)
