"""The rate budget: one token bucket per process, in front of every request to Ortto.

Ortto limits requests per account (per plan), not per endpoint, so identify, track, ``/me``,
``/audiences/create`` and the key probe all take their token from the same bucket.
``delivery.rate_per_s`` is the budget of the whole consumer group: a process takes the share of
its assigned partitions out of all partitions of its topics (:meth:`TokenBucket.set_share`),
recomputed at every rebalance. A process with no partition keeps one partition's share, so that
its key probe (and a start-up that finds no partition) can still ask; before the first rebalance
(the start-up's key check and audience look-ups) the whole budget applies, as nothing else of the
process sends yet. Skew between partitions is corrected by the adaptive concurrency limit, which
halves on 429 (:mod:`streamer.sender._governor`).

The bucket holds at most ``max(1, rate)`` tokens, so rates below one request per second work: one
request, then the next after ``1 / rate`` seconds. A waiter that is cancelled takes nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["TokenBucket"]

_MAX_NAP_S = 1.0
"""Waiters look again at least this often: a new share may have raised the rate meanwhile."""


class TokenBucket:
    def __init__(
        self,
        budget_per_s: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self.budget: float | None = None
        """The group's budget (``delivery.rate_per_s``); ``None``: no limit."""
        self.waiting = 0
        """Requests waiting for a token now (the budget is what holds them)."""
        self.share = 1.0
        """This process's part of the budget, 0 < share <= 1."""
        self.rate: float | None = None
        """Requests per second allowed now: budget x share."""
        self._tokens = 0.0
        self._refilled = clock()
        self.configure(budget_per_s)

    def configure(self, budget_per_s: float | None) -> None:
        """Set the group's budget (``None``: unlimited); the bucket starts full."""
        if budget_per_s is not None and budget_per_s <= 0:
            raise ValueError("a rate budget must be positive")
        self.budget = budget_per_s
        self._apply(self.share)
        self._tokens = self._capacity()

    def set_share(self, assigned: int, total: int) -> float:
        """Take ``assigned`` of ``total`` partitions' share; return the share in force."""
        # No partition: one partition's share still lets the key probe through.
        share = 1.0 if total <= 0 else min(1.0, max(assigned, 1) / total)
        self._refill()
        self._apply(share)
        self._tokens = min(self._tokens, self._capacity())
        return share

    def _apply(self, share: float) -> None:
        self.share = share
        self.rate = None if self.budget is None else self.budget * share

    def _capacity(self) -> float:
        return 0.0 if self.rate is None else max(1.0, self.rate)

    def _refill(self) -> None:
        now = self._clock()
        if self.rate is not None:
            self._tokens = min(self._capacity(), self._tokens + (now - self._refilled) * self.rate)
        self._refilled = now

    def try_take(self) -> float:
        """Take a token if there is one: ``0.0``; else the seconds until there will be one."""
        rate = self.rate
        if rate is None:
            return 0.0
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / rate

    def has_token(self) -> bool:
        """Whether a request sent now would get a token at once (nobody waits ahead of it)."""
        if self.rate is None:
            return True
        if self.waiting:
            return False
        self._refill()
        return self._tokens >= 1.0

    async def take(self) -> None:
        """Wait for a token and take it (cancellation takes nothing)."""
        wait = self.try_take()
        if wait <= 0.0:
            return
        self.waiting += 1
        try:
            while wait > 0.0:
                await self._sleep(min(wait, _MAX_NAP_S))
                wait = self.try_take()
        finally:
            self.waiting -= 1
