"""How hard streamer presses on one Ortto endpoint: a token bucket and an adaptive limit.

The token bucket keeps the request rate within the account's plan (Ortto publishes 10 to 30
requests per second); ``None`` leaves the rate free (the sandbox, proxies). The concurrency limit
adapts like TCP: it grows by one request per window of successes and halves on a 429, a 5xx, a
timeout or a latency well above the best seen, never above ``max_in_flight`` nor below one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["Governor", "Governors"]


class Governor:
    def __init__(
        self,
        *,
        max_in_flight: int,
        rate_per_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        latency_factor: float = 4.0,
    ) -> None:
        self.max_in_flight = max_in_flight
        self.limit = float(max_in_flight)
        self.in_flight = 0
        self._rate = rate_per_s
        self._tokens = float(rate_per_s or 0.0)
        self._refilled = clock()
        self._clock = clock
        self._latency_factor = latency_factor
        self._best_latency: float | None = None
        self._last_decrease = -1e18
        self._changed = asyncio.Event()

    async def acquire(self) -> None:
        while self.in_flight >= int(self.limit):
            self._changed.clear()
            await self._changed.wait()
        self.in_flight += 1
        if self._rate is not None:
            await self._take_token()

    async def _take_token(self) -> None:
        assert self._rate is not None
        while True:
            now = self._clock()
            self._tokens = min(self._rate, self._tokens + (now - self._refilled) * self._rate)
            self._refilled = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return
            await asyncio.sleep((1.0 - self._tokens) / self._rate)

    def release(self, *, congested: bool, latency_s: float | None = None) -> None:
        self.in_flight -= 1
        now = self._clock()
        slow = False
        if latency_s is not None and not congested:
            best = self._best_latency
            if best is None or latency_s < best:
                self._best_latency = latency_s
            elif latency_s > max(best * self._latency_factor, 0.5):
                slow = True
        if congested or slow:
            # One decrease per round trip: a burst of failures of one window counts once.
            if now - self._last_decrease > (latency_s or 0.1):
                self.limit = max(1.0, self.limit / 2)
                self._last_decrease = now
        else:
            self.limit = min(float(self.max_in_flight), self.limit + 1.0 / self.limit)
        self._changed.set()


class Governors:
    """One :class:`Governor` per endpoint (``/v1/identify``, ``/v1/track``...), made on first use:
    Ortto limits and slows each endpoint on its own, so a congested one must not throttle the
    other."""

    def __init__(
        self,
        *,
        max_in_flight: int,
        rate_per_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_in_flight = max_in_flight
        self._rate = rate_per_s
        self._clock = clock
        self.by_path: dict[str, Governor] = {}

    def for_path(self, path: str) -> Governor:
        governor = self.by_path.get(path)
        if governor is None:
            governor = self.by_path[path] = Governor(
                max_in_flight=self._max_in_flight, rate_per_s=self._rate, clock=self._clock
            )
        return governor
