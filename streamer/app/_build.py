"""Start-up: everything that can be refused is refused here, before a message is read.

Order: the key's shape (no request is sent with a malformed key), every trigger and mapping
(all errors together), the key itself (``GET /me``), then the audiences (found or created once
and cached for the life of the process).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from .._exceptions import RequestError
from ..config import Config
from ..observability import Metrics
from ..routing import compile_router
from ..sender import OrttoClient
from ._pipeline import Pipeline

__all__ = ["build_pipeline"]

log = logging.getLogger("streamer.app")


async def build_pipeline(
    config: Config,
    *,
    metrics: Metrics | None = None,
    consumer_overrides: dict[str, Any] | None = None,
) -> Pipeline:
    ortto = config.ortto
    client = OrttoClient(
        ortto.api_key,
        endpoint=ortto.endpoint,
        connect_timeout_s=ortto.connect_timeout_s,
        read_timeout_s=ortto.read_timeout_s,
        max_connections=config.delivery.max_in_flight * 2,
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
        audience_ids: dict[str, str] = {}
        for name in router.audience_names:
            audience_ids[name] = await client.create_audience(name)
            log.info("audience %r has id %s", name, audience_ids[name])
        if audience_ids:
            router = compile_router(
                config.subscriptions, audience_ids=audience_ids, integrations=ortto.integrations
            )
    except BaseException:
        await client.aclose()
        raise
    return Pipeline(
        config, router=router, client=client, metrics=metrics,
        consumer_overrides=consumer_overrides,
    )


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
