"""The HTTP client of Ortto: one pooled ``httpx.AsyncClient`` per process.

Every request (``post`` of identify/track batches, ``/me``, ``/audiences/create``) first takes a
token from the process's one :class:`~streamer.sender.TokenBucket` (``self.rate``): the rate
budget is the account's, whichever endpoint is asked.

Any exception of the HTTP client (httpx's timeouts, transport and protocol errors, a
``DecodingError`` of a body, anything else it may raise) becomes a :class:`RequestError` that
names the exception's class and message, so the sender retries it; only cancellation passes.

The key never leaves this module except in the ``Authorization`` header: errors and logs name
the endpoint and the status, not the key (an exception's text is scrubbed of it, to be sure).

``post`` (the batches: every delivered item goes through it) hands its request straight to the
client's transport, the connection pool: httpx's client layers (URL and header merging, cookies,
auth and redirect flows, event hooks) do nothing for it and cost about 0.3 of the 1.4 ms of CPU
of a 500-item request. Not when the environment names a proxy (``HTTPS_PROXY`` ...): the client
routes those requests, as it does ``me`` and ``create_audience``.
"""

from __future__ import annotations

import os
import time
import urllib.request
from dataclasses import dataclass

import httpx
import orjson

from .._exceptions import AuthenticationError, OrttoError, RequestError
from ._bucket import TokenBucket
from ._region import base_url_for_key

__all__ = ["OrttoClient", "PostResult"]


@dataclass(slots=True, frozen=True)
class PostResult:
    status: int
    headers: httpx.Headers
    body: bytes
    seconds: float


class OrttoClient:
    """Thin async client: ``me``, ``create_audience`` and ``post`` of a prepared body."""

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
        timeout = httpx.Timeout(read_timeout_s, connect=connect_timeout_s)
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections)
        if transport is None and not urllib.request.getproxies():
            # Built here, not by the client, so that post can use it. (A client given a
            # transport ignores the environment's proxies: only when there are none.)
            transport = httpx.AsyncHTTPTransport(limits=limits)
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=timeout, limits=limits,
            transport=transport,
        )
        self._transport = transport
        """What ``post`` sends through; ``None`` (the client) when a proxy is configured."""
        self._headers = httpx.Headers(headers)
        self._extensions = {"timeout": timeout.as_dict()}
        self._urls: dict[str, httpx.URL] = {}

    async def aclose(self) -> None:
        await self._http.aclose()

    def _failure(self, request: str, exc: Exception) -> RequestError:
        kind = type(exc).__name__
        what = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
        reason = _transport_reason(exc).replace(self._key, "***")[:300]
        return RequestError(f"{request} {what}: {reason}", error_class=kind)

    async def post(self, path: str, body: bytes) -> PostResult:
        """POST a JSON body; any failure of the HTTP client becomes :class:`RequestError`."""
        await self.rate.take()
        started = time.perf_counter()  # after the token: the latency is Ortto's, not ours
        try:
            if self._transport is None:
                response = await self._http.post(path, content=body)
                content = response.content
            else:
                response = await self._transport.handle_async_request(httpx.Request(
                    "POST", self._url(path), headers=self._headers, content=body,
                    extensions=self._extensions))
                try:
                    content = await response.aread()
                finally:
                    await response.aclose()
        except Exception as exc:  # every failure of the HTTP client is retryable
            raise self._failure(f"POST {path}", exc) from None
        return PostResult(
            response.status_code, response.headers, content, time.perf_counter() - started,
        )

    def _url(self, path: str) -> httpx.URL:
        url = self._urls.get(path)
        if url is None:
            # The URL the client would send to (its base URL joined with the path), once.
            url = self._urls[path] = self._http.build_request("POST", path).url
        return url

    async def check_key(self) -> None:
        """``GET /me``: raise :class:`AuthenticationError` when the key is refused."""
        await self.rate.take()
        try:
            response = await self._http.get("/me")
        except Exception as exc:  # every failure of the HTTP client is retryable
            # The OS's own words (refused, DNS, TLS) and the host; the key is in no message.
            raise self._failure(f"GET {self.base_url}/me", exc) from None
        if response.status_code in (401, 403):
            raise AuthenticationError(
                f"Ortto refused the API key (HTTP {response.status_code} on {self.base_url}/me)",
                status=response.status_code,
            )
        if response.status_code >= 400:
            raise RequestError(
                f"GET {self.base_url}/me answered HTTP {response.status_code}",
                status=response.status_code,
            )

    async def create_audience(self, name: str) -> str:
        """Find or create the audience ``name``; return its id."""
        await self.rate.take()
        try:
            response = await self._http.post(
                "/audiences/create", content=orjson.dumps({"name": name})
            )
        except Exception as exc:  # every failure of the HTTP client is retryable
            raise self._failure(f"POST {self.base_url}/audiences/create", exc) from None
        if response.status_code in (401, 403):
            raise AuthenticationError(
                f"Ortto refused the API key (HTTP {response.status_code} on "
                f"{self.base_url}/audiences/create)",
                status=response.status_code,
            )
        if response.status_code >= 400:
            raise RequestError(
                f"POST {self.base_url}/audiences/create for {name!r} answered HTTP "
                f"{response.status_code}",
                status=response.status_code,
            )
        try:
            answer = orjson.loads(response.content)
            audience_id = answer["id"]
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
