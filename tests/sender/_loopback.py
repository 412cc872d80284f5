"""Real HTTP for the sender's tests: an aiohttp server on a free loopback port, in the test's
own event loop.

``serving(handler)`` answers every request with an aiohttp handler; ``serving_httpx(handler)``
with a function of an ``httpx.Request`` returning an ``httpx.Response`` (sync or async), the
shape the answer-reading tests are written in. Either yields the contract base URL
(``http://127.0.0.1:PORT/v1``) for ``OrttoClient(endpoint=...)``. A handler still waiting when
its client goes away (a timeout, a cancelled request) is cancelled.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
from aiohttp import web

__all__ = ["HttpxHandler", "serving", "serving_httpx"]

WebHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HttpxHandler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]

# Set by the server (from the body it sends) or meaningless once the body is decoded.
_NOT_COPIED = {"content-length", "transfer-encoding", "content-encoding"}


@contextlib.asynccontextmanager
async def serving(handler: WebHandler) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, handle_signals=False, handler_cancellation=True,
                           shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/v1"
    finally:
        await runner.cleanup()


def serving_httpx(handler: HttpxHandler) -> contextlib.AbstractAsyncContextManager[str]:
    async def answer(request: web.Request) -> web.Response:
        asked = httpx.Request(request.method, str(request.url), headers=request.headers,
                              content=await request.read())
        response = handler(asked)
        if inspect.isawaitable(response):
            response = await response
        headers = {k: v for k, v in response.headers.items() if k.lower() not in _NOT_COPIED}
        return web.Response(status=response.status_code, headers=headers,
                            body=response.content)

    return serving(answer)
