"""Start-up: everything that can be refused is refused here, before a message is read.

Order: the key's shape (no request is sent with a malformed key), every trigger and mapping
(compiled once, all errors together), the key itself (``GET /me``), then the audiences (found
or created once and bound into the compiled router). A start-up error names the endpoint's host
and the operating system's reason (refused, DNS, TLS), never the key. Once everything is in
place one line says what is starting: version, group, topics, endpoint host, metrics address.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from .._exceptions import RequestError
from .._version import __version__
from ..config import Config
from ..observability import Metrics
from ..routing import Router, compile_router
from ..sender import OrttoClient, TokenBucket
from ..sender._region import endpoint_host
from ._pipeline import Pipeline

__all__ = ["build_pipeline"]

log = logging.getLogger("streamer.app")


async def build_pipeline(
    config: Config,
    *,
    metrics: Metrics | None = None,
    consumer_overrides: dict[str, Any] | None = None,
    **pipeline_options: Any,
) -> Pipeline:
    ortto = config.ortto
    client = OrttoClient(
        ortto.api_key,
        endpoint=ortto.endpoint,
        connect_timeout_s=ortto.connect_timeout_s,
        read_timeout_s=ortto.read_timeout_s,
        max_connections=config.delivery.max_in_flight * 2,
        # The start-up's requests (/me, audiences) take from the rate budget too.
        rate=TokenBucket(config.delivery.rate_per_s),
    )
    try:
        router = compile_router(config.subscriptions, integrations=ortto.integrations)
        for warning in router.warnings:
            log.warning("%s", warning)
        if router.unbatched and config.delivery.rate_per_s is not None:
            log.warning("subscriptions %s send one request per event (enable_batching: false): "
                        "each counts against delivery.rate_per_s", ", ".join(router.unbatched))
        if ortto.check_key:
            await _check_key(client, ortto.startup_timeout_s)
        router = await _bind_audiences(client, router)
    except BaseException:
        await client.aclose()
        raise
    pipeline = Pipeline(
        config, router=router, client=client, metrics=metrics,
        consumer_overrides=consumer_overrides, **pipeline_options,
    )
    log.info("%s", startup_line(config, client.base_url, router))
    return pipeline


def startup_line(config: Config, base_url: str, router: Router) -> str:
    """What is starting, in one line (no secret: the key is never part of it)."""
    kafka = config.kafka
    group = kafka.group_id if kafka is not None else "-"
    topics = ",".join(kafka.topics) if kafka is not None else "-"
    start_from = kafka.start_from if kafka is not None else "-"
    metrics = config.metrics
    address = (
        "disabled" if metrics.port is None
        else f"{metrics.host}:{metrics.port}" + (" (a free port)" if metrics.port == 0 else "")
    )
    return (
        f"streamer {__version__} starting: group={group} topics={topics} "
        f"start_from={start_from} endpoint={endpoint_host(base_url)} "
        f"routes={len(router.routes)} compiled_steps={len(router.compiled_routes)} "
        f"metrics={address}"
    )


async def _bind_audiences(client: OrttoClient, router: Router) -> Router:
    if not router.audience_names:
        return router
    audience_ids: dict[str, str] = {}
    for name in router.audience_names:
        audience_ids[name] = await client.create_audience(name)
        log.info("audience %r has id %s", name, audience_ids[name])
    return router.with_audience_ids(audience_ids)


async def _check_key(client: OrttoClient, timeout_s: float) -> None:
    """A refused key fails at once; an unreachable Ortto is retried until ``timeout_s``
    (a network that comes up a little after the pod should not crash-loop it)."""
    deadline = time.monotonic() + timeout_s
    wait = 0.5
    while True:
        try:
            await client.check_key()
            return
        except RequestError as exc:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RequestError(
                    f"Ortto did not answer within ortto.startup_timeout_s ({timeout_s:g}s): {exc}"
                ) from None
            log.warning("cannot reach Ortto to check the key (%s); retrying", exc)
            await asyncio.sleep(min(wait, left))
            wait = min(wait * 2, 5.0)
