"""``/metrics``, ``/healthz`` and ``/readyz`` on their own port, served from a thread of their own.

Why a thread and not the event loop: ``/healthz`` must fail when the event loop is blocked (a
CPU-bound bug, a blocking call by mistake), and a server running on that loop could not answer
at all. The kubelet would see timeouts, which it does count as failures, but an operator would
see nothing. Served from its own thread (``http.server``, one short-lived thread per request),
``/healthz`` answers ``503`` with ``{"alive": false, "reason": "event loop silent for 31s"}``.
``/metrics`` keeps answering too, which is when it is most wanted.

What the endpoints say is decided by the callables given (the pipeline's ``readiness`` and its
heartbeats' ``check``); they are called from the server's threads, so they only read state.

Lifecycle: :meth:`start` binds the port (0: any free one, see :attr:`port`) and starts serving;
:meth:`stop` stops serving and closes the socket.

``/metrics`` is prometheus-client's own exposition, as its WSGI app would serve it: the format
the scraper's ``Accept`` asks for (Prometheus text, or OpenMetrics), gzip when
``Accept-Encoding`` allows it, and ``?name[]=...`` to scrape only some families.
"""

from __future__ import annotations

import asyncio
import gzip
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import orjson
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder, gzip_accepted

__all__ = ["HealthServer"]

Check = Callable[[], tuple[bool, str]]


def _always_alive() -> tuple[bool, str]:
    return True, "alive"


class HealthServer:
    """``/healthz``: the loop and the consumer beat. ``/readyz``: able to take part."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        ready: Check,
        alive: Check = _always_alive,
        host: str = "0.0.0.0",
        port: int = 0,
    ) -> None:
        self._registry = registry
        self._ready = ready
        self._alive = alive
        self._host = host
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    async def start(self) -> None:
        self.start_serving()

    async def stop(self) -> None:
        # shutdown() waits for the serving loop to notice (up to its poll interval).
        await asyncio.to_thread(self.stop_serving)

    def start_serving(self) -> None:
        server = ThreadingHTTPServer((self._host, self._port), self._handler())
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2},
            name="streamer-health", daemon=True,
        )
        self._thread.start()

    def stop_serving(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                if path == "/metrics":
                    self._metrics(parse_qs(query))
                elif path == "/healthz":
                    ok, why = outer._alive()
                    self._json(ok, {"alive": ok, "reason": why})
                elif path == "/readyz":
                    ok, why = outer._ready()
                    self._json(ok, {"ready": ok, "reason": why})
                else:
                    self._send(404, b"not found\n", "text/plain")

            def _metrics(self, params: dict[str, list[str]]) -> None:
                encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
                names = params.get("name[]")
                registry = outer._registry.restricted_registry(names) if names else outer._registry
                body = encoder(registry)
                gzipped = gzip_accepted(self.headers.get("Accept-Encoding", ""))
                if gzipped:
                    body = gzip.compress(body)
                self._send(200, body, content_type, gzip=gzipped)

            def _json(self, ok: bool, body: dict[str, Any]) -> None:
                self._send(200 if ok else 503, orjson.dumps(body), "application/json")

            def _send(
                self, status: int, body: bytes, content_type: str, *, gzip: bool = False
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                if gzip:
                    self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Probes every few seconds are not worth a log line each."""

        return Handler
