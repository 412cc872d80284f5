"""OrttoClient.post sends straight through its connection pool, except when the environment
names a proxy: then it goes through the client, which honours it (as ``me`` does)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from streamer.sender import OrttoClient


async def _post_via_proxy(body: bytes) -> tuple[int, list[bytes]]:
    """A local server standing in for an HTTP proxy: records each request line, answers 200."""
    lines: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines.append(head.split(b"\r\n", 1)[0])
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        env.delenv("NO_PROXY", raising=False)
        env.delenv("no_proxy", raising=False)
        client = OrttoClient("pau-test", endpoint="http://ortto.example/v1")
    try:
        result = await client.post("/track", body)
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()
    return result.status, lines


def test_a_proxy_from_the_environment_carries_the_batches() -> None:
    status, lines = asyncio.run(_post_via_proxy(b"[{}]"))
    assert status == 200
    # The absolute form: the request was addressed to the proxy, for Ortto's host.
    assert lines == [b"POST http://ortto.example/v1/track HTTP/1.1"]


def test_without_a_proxy_the_batch_goes_to_the_transport_with_the_clients_url() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True}, headers={"X-Test": "1"})

    async def post() -> tuple[int, str, bytes]:
        client = OrttoClient("pau-test", endpoint="http://127.0.0.1:9/v1",
                             transport=httpx.MockTransport(answer))
        try:
            result = await client.post("/identify", b"[1]")
        finally:
            await client.aclose()
        return result.status, result.headers["x-test"], result.body

    assert asyncio.run(post()) == (200, "1", b'{"ok":true}')
    (request,) = seen
    assert str(request.url) == "http://127.0.0.1:9/v1/identify"
    assert request.headers["authorization"] == "Bearer pau-test"
    assert request.headers["content-type"] == "application/json"
    assert request.content == b"[1]"
