"""The HTTP client of Ortto: one pooled transport per process (``_transport.py``: aiohttp's
session, or httpx's client when the environment names a proxy).

Every request (``post`` of identify/track batches, ``/me``, ``/audiences/create``) first takes a
token from the process's one :class:`~streamer.sender.TokenBucket` (``self.rate``): the rate
budget is the account's, whichever endpoint is asked.

Any exception of the HTTP client (timeouts, connection and protocol errors, a body that fails
to decompress, anything else it may raise) becomes a :class:`RequestError` that names the
exception's class and message, with the operating system's own words where there are some, so
the sender retries it; only cancellation passes.

The key never leaves this module except in the ``Authorization`` header: errors and logs name
the endpoint and the status, not the key (an exception's text is scrubbed of it, to be sure).
"""

from __future__ import annotations

import os
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
import orjson

from .._exceptions import AuthenticationError, OrttoError, RequestError
from ._bucket import TokenBucket
from ._region import base_url_for_key
from ._transport import AiohttpTransport, Answer, HttpxTransport, Transport, timed_out

__all__ = ["OrttoClient", "PostResult"]


@dataclass(slots=True, frozen=True)
class PostResult:
    status: int
    headers: Mapping[str, str]
    """Case-insensitive: ``headers.get("retry-after")``."""
    body: bytes
    seconds: float


class OrttoClient:
    """Thin async client: ``me``, ``create_audience`` and ``post`` of a prepared body.

    ``transport`` (tests): an httpx transport to send through instead of the network."""

    def __init__(
        self,
        api_key: str,
        *,
        endpoint: str | None = None,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 30.0,
        max_connections: int = 16,
        transport: httpx.AsyncBaseTransport | None = None,
        rate: TokenBucket | None = None,
    ) -> None:
        self.base_url = base_url_for_key(api_key, endpoint)
        self._key = api_key
        self.rate = rate if rate is not None else TokenBucket()
        """The process's rate budget, taken by every request (the pipeline sets its share)."""
        headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "User-Agent": "streamer",
        }
        self._transport: Transport
        if transport is None and not urllib.request.getproxies():
            self._transport = AiohttpTransport(
                self.base_url, headers, connect_timeout_s=connect_timeout_s,
                read_timeout_s=read_timeout_s, max_connections=max_connections)
        else:
            self._transport = HttpxTransport(
                self.base_url, headers, connect_timeout_s=connect_timeout_s,
                read_timeout_s=read_timeout_s, max_connections=max_connections,
                transport=transport)

    async def aclose(self) -> None:
        await self._transport.aclose()

    def _failure(self, request: str, exc: Exception) -> RequestError:
        kind = type(exc).__name__
        what = "timed out" if timed_out(exc) else "failed"
        reason = _transport_reason(exc).replace(self._key, "***")[:300]
        return RequestError(f"{request} {what}: {reason}", error_class=kind)

    async def _send(self, request: str, method: str, path: str, body: bytes | None) -> Answer:
        try:
            return await self._transport.send(method, path, body)
        except Exception as exc:  # every failure of the HTTP client is retryable
            raise self._failure(request, exc) from None

    async def post(self, path: str, body: bytes) -> PostResult:
        """POST a JSON body; any failure of the HTTP client becomes :class:`RequestError`."""
        await self.rate.take()
        started = time.perf_counter()  # after the token: the latency is Ortto's, not ours
        try:
            answer = await self._transport.send("POST", path, body)
        except Exception as exc:  # every failure of the HTTP client is retryable
            raise self._failure(f"POST {path}", exc) from None
        return PostResult(answer.status, answer.headers, answer.body,
                          time.perf_counter() - started)

    async def check_key(self) -> None:
        """``GET /me``: raise :class:`AuthenticationError` when the key is refused."""
        await self.rate.take()
        # The OS's own words (refused, DNS, TLS) and the host; the key is in no message.
        status = (await self._send(f"GET {self.base_url}/me", "GET", "/me", None)).status
        if status in (401, 403):
            raise AuthenticationError(
                f"Ortto refused the API key (HTTP {status} on {self.base_url}/me)",
                status=status,
            )
        if status >= 400:
            raise RequestError(f"GET {self.base_url}/me answered HTTP {status}", status=status)

    async def create_audience(self, name: str) -> str:
        """Find or create the audience ``name``; return its id."""
        await self.rate.take()
        url = f"{self.base_url}/audiences/create"
        answer = await self._send(f"POST {url}", "POST", "/audiences/create",
                                  orjson.dumps({"name": name}))
        status = answer.status
        if status in (401, 403):
            raise AuthenticationError(
                f"Ortto refused the API key (HTTP {status} on {url})", status=status)
        if status >= 400:
            raise RequestError(f"POST {url} for {name!r} answered HTTP {status}", status=status)
        try:
            audience_id = orjson.loads(answer.body)["id"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise OrttoError(f"audience {name!r}: answer without an id") from None
        return str(audience_id)


def _transport_reason(exc: BaseException) -> str:
    """``Class: reason`` of a transport failure, with the operating system's own words where
    there are some (``Connection refused``, ``Name or service not known``, a TLS error): the
    deepest cause that carries an errno, which asyncio's "All connection attempts failed"
    hides."""
    reason = str(exc) or "no detail"
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError) and cause.errno is not None:
            # asyncio words ECONNREFUSED "Connect call failed": the errno's own name is clearer.
            text = os.strerror(cause.errno) if cause.errno > 0 else cause.strerror or str(cause)
            if text not in reason:
                reason = f"{reason} ({text})"
        cause = cause.__cause__ or cause.__context__
    return f"{type(exc).__name__}: {reason}"
