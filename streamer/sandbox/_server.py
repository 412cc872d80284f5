"""The sandbox's HTTP server: Ortto's contract under ``/v1`` and the control API under
``/_sandbox``, on aiohttp, in-process or in a thread.

Life of one contract request (``/v1/identify``, ``/v1/track``, ``/v1/me``,
``/v1/audiences/create``), in this order:

1. a banned caller gets 429 at once (Ortto's ban, see ``_gate.py``);
2. the ``Authorization: Bearer`` key is checked: refused -> 401 JSON error, counted as bad;
3. a hold armed for this endpoint keeps the request waiting until released;
4. the fault plan decides: delay, refusal, 429, 5xx, hang or drop (see ``_faults.py``);
5. the body is read and checked: not JSON or not an array -> 400, more than ``max_items`` items
   or ``max_body_bytes`` bytes -> 413; each item is validated (400 per item naming the field),
   item faults are drawn, the accepted items are stored (see ``_store.py``). A batch whose
   items share one key set is first checked as a whole (``_batch.py``); only a batch that
   fails that check, or meets an item fault rule, is walked item by item. With the lean intake
   (``_lean.py``, for benchmarks) items are only counted and their latencies taken, from
   their timestamps alone where the body allows it;
6. the answer: 200 (``partial_status`` when some item failed) with ``{"errors": [...]}``.

Whole-request 400/401/403/404/405/413 answers count as bad requests towards the ban.

:class:`SandboxServer` binds its own socket (``port=0`` picks a free one) so ``.url`` is known
as soon as :meth:`SandboxServer.start` returns. ``run_in_thread()`` runs the same server on a
private event loop in a daemon thread, for synchronous tests. Stopping releases held requests
and wakes hanging ones (which then close their connection), so a stop never waits on a test.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
import threading
import time
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from ._control import add_control_routes
from ._faults import FaultRule
from ._state import SandboxState
from ._validate import parse_bearer

if TYPE_CHECKING:
    from ._client import SandboxClient

__all__ = ["SandboxServer", "json_response"]

_ROUTES: dict[str, tuple[str, str]] = {
    "/v1/identify": ("identify", "POST"),
    "/v1/track": ("track", "POST"),
    "/v1/me": ("me", "GET"),
    "/v1/audiences/create": ("audiences", "POST"),
}
# aiohttp refuses bodies above client_max_size with a text answer; the limit that matters is
# checked by the handler (state.max_body_bytes, changeable at run time) with a JSON answer.
_TRANSPORT_MAX_BODY = 256 * 1024 * 1024


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", headers=headers
    )


_NO_ERRORS = orjson.dumps({"errors": []})


def _no_errors() -> web.Response:
    """The answer of a request whose items were all accepted (the body encoded once)."""
    return web.Response(body=_NO_ERRORS, content_type="application/json")


def _error(status: int, code: str, message: str) -> web.Response:
    return json_response({"error": {"code": code, "message": message}}, status)


def _rate_limited(seconds: int, hint: str, message: str = "rate limit") -> web.Response:
    error: dict[str, Any] = {"code": "rate-limit", "message": message}
    if hint in ("both", "body"):
        error["try-in-seconds"] = seconds
    headers = {"Retry-After": str(seconds)} if hint in ("both", "header") else None
    return json_response({"error": error}, 429, headers)


class _Bad(Exception):
    """A whole request refused as malformed (counted towards the ban)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.response = _error(status, code, message)


class _Call:
    """One contract request being answered: what to count and log when it ends."""

    __slots__ = ("endpoint", "request", "started", "state")

    def __init__(
        self, request: web.Request, endpoint: str, started: float, state: SandboxState
    ) -> None:
        self.request = request
        self.endpoint = endpoint
        self.started = started
        self.state = state

    def record(self, status: int | None, outcome: str, items: int = 0, errors: int = 0) -> None:
        self.state.answered(
            method=self.request.method,
            path=self.request.path,
            endpoint=self.endpoint,
            status=status,
            started=self.started,
            outcome=outcome,
            items=items,
            errors=errors,
        )

    def answer(
        self, response: web.Response, outcome: str, items: int = 0, errors: int = 0
    ) -> web.Response:
        self.record(response.status, outcome, items, errors)
        return response


class SandboxServer:
    """An Ortto-compatible server on loopback. ``url`` is the base URL to give a client."""

    def __init__(
        self, state: SandboxState | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.state = state if state is not None else SandboxState()
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None

    # -- addresses ------------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        """``http://host:port`` (the control API lives under ``/_sandbox``)."""
        if self._runner is None:
            raise RuntimeError("the sandbox is not started")
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The Ortto base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"{self.root_url}/v1"

    def client(self, timeout: float = 10.0) -> SandboxClient:
        """A control client for this server (close it, or use it as a context manager)."""
        from ._client import SandboxClient

        return SandboxClient(self.root_url, timeout=timeout)

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and serve on the running loop."""
        if self._runner is not None:
            raise RuntimeError("the sandbox is already started")
        self._stopping = asyncio.Event()
        app = web.Application(client_max_size=_TRANSPORT_MAX_BODY)
        for path in _ROUTES:
            app.router.add_route("*", path, self._contract)
        app.router.add_route("*", "/v1/{tail:.*}", self._contract)
        add_control_routes(app, self.state)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.create_server((self.host, self.port), family=family, backlog=512)
        try:
            await web.SockSite(runner, sock).start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self.port = sock.getsockname()[1]
        self._runner = runner

    async def stop(self) -> None:
        """Release held requests, wake hanging ones, close every connection."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        if self._stopping is not None:
            self._stopping.set()
        self.state.release()
        await runner.cleanup()

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @contextlib.contextmanager
    def run_in_thread(self) -> Iterator[SandboxServer]:
        """Serve from a private loop in a daemon thread while the ``with`` block runs."""
        loop = asyncio.new_event_loop()
        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:
                failure.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        thread = threading.Thread(target=serve, name="streamer-sandbox", daemon=True)
        thread.start()
        started.wait()
        if failure:
            thread.join()
            raise failure[0]
        try:
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout=30)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=30)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake up when the server stops."""
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    # -- the contract ---------------------------------------------------------------------

    async def _contract(self, request: web.Request) -> web.StreamResponse:
        state = self.state
        started = time.monotonic()
        endpoint, method = _ROUTES.get(request.path, ("other", ""))
        caller = request.remote or "unknown"
        state.received(endpoint, request.content_length or 0)
        call = _Call(request, endpoint, started, state)

        now = state.clock()  # the ban's time: a test may drive it (a fake clock)
        banned_for = state.bans.banned_for(caller, now)
        if banned_for > 0:
            seconds = max(1, int(banned_for + 0.999))
            message = f"too many bad requests: banned for {seconds} more seconds"
            return call.answer(_rate_limited(seconds, "both", message), "banned")
        if not state.keys.accepts(parse_bearer(request.headers.get("Authorization"))):
            state.note_bad(caller, now)
            return call.answer(_error(401, "unauthorized", "invalid api key"), "unauthorized")
        if endpoint == "other":
            state.note_bad(caller, now)
            return call.answer(_error(404, "not-found", f"no such path {request.path}"), "bad")
        if request.method != method:
            state.note_bad(caller, now)
            message = f"{request.path} takes {method}, not {request.method}"
            return call.answer(_error(405, "method-not-allowed", message), "bad")

        held = state.holds.take(endpoint)
        if held is not None:
            await held.wait()
        decision = state.faults.decide(endpoint)
        if decision.delay:
            await self._sleep(decision.delay)
        if decision.terminal is not None:
            return await self._fault(call, decision.terminal, decision.retry_after, caller)
        try:
            response, items, errors = await self._serve(request, endpoint)
        except _Bad as bad:
            state.note_bad(caller, state.clock())
            return call.answer(bad.response, "bad")
        return call.answer(response, "partial" if errors else "ok", items, errors)

    async def _fault(
        self, call: _Call, rule: FaultRule, retry_after: int, caller: str
    ) -> web.StreamResponse:
        kind = rule.kind
        outcome = f"fault:{kind}"
        if kind == "unauthorized":
            self.state.note_bad(caller, self.state.clock())
            response = _error(rule.effective_status, "unauthorized", "invalid api key")
            return call.answer(response, outcome)
        if kind in ("rate_limit", "throttle"):
            return call.answer(_rate_limited(retry_after, rule.retry_hint), outcome)
        if kind == "request_error":
            response = _error(rule.effective_status, "injected", rule.effective_message)
            return call.answer(response, outcome)
        # hang or drop: the answer is lost; with `store`, the request was processed first.
        items = errors = 0
        if rule.store:
            with contextlib.suppress(_Bad):
                _, items, errors = await self._serve(call.request, call.endpoint)
        if kind == "hang":
            await self._sleep(rule.effective_seconds)
        call.record(None, outcome, items, errors)
        transport = call.request.transport
        if transport is not None:
            transport.abort()
        # aiohttp does not write to an aborted transport: the client sees the connection close.
        return web.Response(status=500)

    async def _serve(self, request: web.Request, endpoint: str) -> tuple[web.Response, int, int]:
        """Read, check and apply one well-authenticated request: (answer, items, errors)."""
        state = self.state
        if endpoint == "me":
            return json_response({"ok": True}), 0, 0
        declared = request.content_length
        if declared is not None and declared > state.max_body_bytes:
            raise _Bad(413, "too-large", f"body larger than {state.max_body_bytes} bytes")
        raw = await request.read()
        if len(raw) > state.max_body_bytes:
            raise _Bad(413, "too-large", f"body larger than {state.max_body_bytes} bytes")
        # The collector is paused while the body is decoded and ingested: decoding 500 items
        # allocates thousands of containers, which would trigger several young-generation
        # collections per request (a third of the decoding time), all for objects freed by
        # reference counting as soon as the request is answered. Freed while paused, they
        # also leave the allocation count where it was.
        collecting = gc.isenabled()
        if collecting:
            gc.disable()
        try:
            return self._apply(endpoint, raw)
        finally:
            if collecting:
                gc.enable()

    def _apply(self, endpoint: str, raw: bytes) -> tuple[web.Response, int, int]:
        """Decode, check and store a body of ``endpoint`` (not ``me``)."""
        state = self.state
        if state.lean is not None and endpoint != "audiences":
            items = state.ingest_lean_body(endpoint, raw)
            if items is not None:
                return _no_errors(), items, 0
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise _Bad(400, "bad-request", f"body is not valid JSON: {exc}") from None
        if endpoint == "audiences":
            name = body.get("name") if type(body) is dict else None
            if type(name) is not str or not name.strip():
                raise _Bad(400, "bad-request", "name: must be a non-empty string")
            audience, _ = state.find_or_create_audience(name)
            return json_response(audience), 0, 0
        if type(body) is not list:
            raise _Bad(400, "bad-request", "body must be a JSON array of items")
        if len(body) > state.max_items:
            raise _Bad(413, "too-large", f"{len(body)} items: at most {state.max_items} a request")
        lean = state.lean is not None
        errors = state.ingest_lean(endpoint, body) if lean else state.ingest(endpoint, body, raw)
        if not errors:
            return _no_errors(), len(body), 0
        return json_response({"errors": errors}, state.partial_status), len(body), len(errors)
