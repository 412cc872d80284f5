"""How :class:`~streamer.sender.OrttoClient` sends a request: one of two transports, chosen once.

* :class:`AiohttpTransport`, the default: one ``aiohttp.ClientSession`` (created on first use,
  inside the running loop), a pool of at most ``max_connections`` keep-alive connections,
  headers built once, no cookie jar, redirects not followed, compressed answers decoded. It
  costs about a third of the CPU of httpx's connection pool for a 500-item request (0.41 against
  1.10 ms, ``bench/bench_client.py``), and every delivered item goes through it.
* :class:`HttpxTransport`: an ``httpx.AsyncClient``, when the environment names a proxy
  (``HTTPS_PROXY``, ``ALL_PROXY`` ..., with ``NO_PROXY``), or when a test hands an
  ``httpx.AsyncBaseTransport``. httpx honours every form of the environment's proxies as before
  (HTTPS and SOCKS proxies, ``NO_PROXY`` patterns); aiohttp would need a thread hop per request
  to read them (``trust_env``), and reads ``.netrc`` credentials that clash with the
  ``Authorization`` header.

Both verify TLS the same way: httpx's default context (certifi's roots; ``SSL_CERT_FILE`` and
``SSL_CERT_DIR`` when set). Both time out alike: ``connect_timeout_s`` to open a connection,
``read_timeout_s`` without a byte from Ortto. Failures are the HTTP library's own exceptions;
the client turns them into ``RequestError`` (:func:`timed_out` tells which are timeouts).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import NamedTuple, Protocol

import aiohttp
import httpx

__all__ = ["AiohttpTransport", "Answer", "HttpxTransport", "Transport", "timed_out"]


class Answer(NamedTuple):
    status: int
    headers: Mapping[str, str]
    """Case-insensitive (``headers.get("retry-after")``)."""
    body: bytes


class Transport(Protocol):
    async def send(self, method: str, path: str, body: bytes | None) -> Answer:
        """Send to the base URL joined with ``path``; the whole answer, body read."""

    async def aclose(self) -> None: ...


def timed_out(exc: BaseException) -> bool:
    # aiohttp's timeouts are TimeoutError (ServerTimeoutError, ConnectionTimeoutError ...).
    return isinstance(exc, httpx.TimeoutException | TimeoutError)


def _tls() -> ssl.SSLContext:
    # The roots httpx verified with (certifi, or SSL_CERT_FILE/SSL_CERT_DIR): the same trust.
    return httpx.create_ssl_context()


class AiohttpTransport:
    def __init__(
        self, base_url: str, headers: Mapping[str, str], *, connect_timeout_s: float,
        read_timeout_s: float, max_connections: int,
    ) -> None:
        self._base_url = base_url
        self._headers = dict(headers)
        # sock_read: a read that waits longer (its clock starts as the request is written, so
        # a peer that stops reading the body times out too). connect: pool wait and opening.
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=connect_timeout_s + read_timeout_s,
            sock_connect=connect_timeout_s, sock_read=read_timeout_s,
        )
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, str] = {}

    def _open(self) -> aiohttp.ClientSession:
        # Here, not in __init__: aiohttp's session and connector belong to the running loop.
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._max_connections, ssl=_tls()),
            headers=self._headers, timeout=self._timeout,
            cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=True,
        )
        return self._session

    async def send(self, method: str, path: str, body: bytes | None) -> Answer:
        session = self._session or self._open()
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = self._base_url + path
        async with session.request(method, url, data=body, allow_redirects=False) as response:
            content = await response.read()
            return Answer(response.status, response.headers, content)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class HttpxTransport:
    def __init__(
        self, base_url: str, headers: Mapping[str, str], *, connect_timeout_s: float,
        read_timeout_s: float, max_connections: int,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections)
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=dict(headers), limits=limits, transport=transport,
            timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
        )

    async def send(self, method: str, path: str, body: bytes | None) -> Answer:
        response = await self._http.request(method, path, content=body)
        return Answer(response.status_code, response.headers, response.content)

    async def aclose(self) -> None:
        await self._http.aclose()
