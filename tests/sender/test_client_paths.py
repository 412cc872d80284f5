"""When the environment names a proxy, OrttoClient sends through httpx, which honours it (an
HTTP proxy gets the absolute form, an HTTPS request a CONNECT tunnel); without one, aiohttp
carries the requests (test_client_http.py)."""

from __future__ import annotations

import asyncio

import pytest

from streamer import RequestError
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


def test_an_https_proxy_from_the_environment_tunnels_the_batches() -> None:
    async def scenario() -> tuple[RequestError, list[bytes]]:
        lines: list[bytes] = []

        async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            head = await reader.readuntil(b"\r\n\r\n")
            lines.append(head.split(b"\r\n", 1)[0])
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(refuse, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        with pytest.MonkeyPatch.context() as env:
            env.setenv("https_proxy", f"http://127.0.0.1:{port}")
            env.delenv("NO_PROXY", raising=False)
            env.delenv("no_proxy", raising=False)
            client = OrttoClient("pau-test", endpoint="https://ortto.example/v1")
        try:
            with pytest.raises(RequestError) as caught:
                await client.post("/track", b"[]")
        finally:
            await client.aclose()
            server.close()
            await server.wait_closed()
        return caught.value, lines

    error, lines = asyncio.run(scenario())
    # The request went to the proxy as a tunnel to Ortto's host, which the proxy refused.
    assert lines == [b"CONNECT ortto.example:443 HTTP/1.1"]
    assert str(error).startswith("POST /track failed: ProxyError")
    assert "pau-test" not in str(error)
