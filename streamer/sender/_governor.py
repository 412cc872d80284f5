"""How hard streamer presses on one Ortto endpoint: an adaptive limit of requests in flight.

The limit adapts like TCP: it grows by one request per window of successes and halves on a 429,
a 5xx, a timeout or a latency well above the best seen, never above ``max_in_flight`` nor below
one. It is kept per endpoint (Ortto slows each endpoint on its own, so a congested one must not
throttle the other); the request *rate* is the account's and lives in one
:class:`~streamer.sender.TokenBucket` per process, taken by the client for every request.

A place is taken by :meth:`Governor.acquire` and given back exactly once, by :meth:`release`
(with what the answer says about congestion) or :meth:`give_back` (no answer to learn from,
e.g. a cancelled request). A cancelled ``acquire`` takes no place.
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
        clock: Callable[[], float] = time.monotonic,
        latency_factor: float = 4.0,
    ) -> None:
        self.max_in_flight = max_in_flight
        self.limit = float(max_in_flight)
        self.in_flight = 0
        self._clock = clock
        self._latency_factor = latency_factor
        self._best_latency: float | None = None
        self._last_decrease = -1e18
        self._changed = asyncio.Event()

    async def acquire(self) -> None:
        while self.in_flight >= int(self.limit):
            self._changed.clear()
            await self._changed.wait()
        # No await between the check and the count: a cancelled wait has taken nothing.
        self.in_flight += 1

    def give_back(self) -> None:
        """Return a place without an answer to learn from (the request was cancelled)."""
        self.in_flight -= 1
        self._changed.set()

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
    Ortto slows each endpoint on its own, so a congested one must not throttle the other."""

    def __init__(
        self,
        *,
        max_in_flight: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_in_flight = max_in_flight
        self._clock = clock
        self.by_path: dict[str, Governor] = {}

    def for_path(self, path: str) -> Governor:
        governor = self.by_path.get(path)
        if governor is None:
            governor = self.by_path[path] = Governor(
                max_in_flight=self._max_in_flight, clock=self._clock
            )
        return governor
