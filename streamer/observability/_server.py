"""``/metrics``, ``/healthz`` and ``/readyz`` on their own port, served from the event loop.

``/metrics`` is prometheus-client's own exposition, as its WSGI app would serve it: the format
the scraper's ``Accept`` asks for (Prometheus text, or OpenMetrics), gzip when
``Accept-Encoding`` allows it, and ``?name[]=...`` to scrape only some families.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder, gzip_accepted

__all__ = ["HealthServer"]


class HealthServer:
    """``/healthz``: the process is alive. ``/readyz``: assigned and able to deliver."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        ready: Callable[[], tuple[bool, str]],
        host: str = "0.0.0.0",
        port: int = 0,
    ) -> None:
        self._registry = registry
        self._ready = ready
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self._port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, request: web.Request) -> web.Response:
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        names = request.query.getall("name[]", [])
        registry = self._registry.restricted_registry(names) if names else self._registry
        body = encoder(registry)
        headers = {"Content-Type": content_type}
        if gzip_accepted(request.headers.get("Accept-Encoding", "")):
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        return web.Response(body=body, headers=headers)

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def _readyz(self, _request: web.Request) -> web.Response:
        ok, why = self._ready()
        return web.json_response({"ready": ok, "reason": why}, status=200 if ok else 503)
