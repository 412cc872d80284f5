"""Running until SIGTERM or SIGINT, then a clean stop with exit status 0."""

from __future__ import annotations

import asyncio
import logging
import signal

from ..config import Config
from ._build import build_pipeline
from ._pipeline import Pipeline

__all__ = ["run_until_signalled"]

log = logging.getLogger("streamer.app")


async def run_until_signalled(config: Config) -> None:
    pipeline = await build_pipeline(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _stop, pipeline, sig)
    try:
        await pipeline.run()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    stats = pipeline.stats()
    log.info(
        "stopped: consumed=%d filtered=%d delivered=%d rejected=%d pending=%d",
        stats.consumed, stats.filtered, stats.delivered, stats.rejected,
        stats.pending_messages,
    )


def _stop(pipeline: Pipeline, sig: signal.Signals) -> None:
    log.info("%s received: stopping (in-flight work gets the grace period)", sig.name)
    pipeline.stop()
