"""What ``/healthz`` and ``/readyz`` judge by: heartbeats, and a periodic round trip to Kafka.

:class:`Heartbeats` (liveness). Each beat is a name and the time it last beat:

- ``event loop``: stamped by a small task on the loop (:meth:`Heartbeats.tick`), every
  ``timeout_s / 5`` (at most every second). A loop blocked by a CPU-bound bug or a blocking call
  cannot run it, so the stamp ages;
- ``consumer thread``: stamped by the consumer's worker thread each time it calls
  ``consume()``. The pipeline keeps calling it while partitions are paused on purpose (a refused
  key, back-pressure, an Ortto outage: librdkafka then serves callbacks and heartbeats but
  returns no messages), so paused is alive; a thread stuck in a call that never returns is not.

:meth:`Heartbeats.check` fails when any beat is older than ``timeout_s``
(``metrics.liveness_timeout_s``). It is read by the health server's own thread, so a blocked
loop is reported, not merely unanswered. A beat :meth:`~Heartbeats.retire`-d (the consumer
during shutdown) is no longer judged.

:class:`ClusterProbe` (readiness). librdkafka says little when a broker hangs: a SIGSTOPped
broker keeps its TCP connections open, so no ``_TRANSPORT`` or ``_ALL_BROKERS_DOWN`` error comes
until request timeouts (``socket.timeout.ms``, 60 s) expire, and the statistics still say "UP".
So the probe asks: every ``interval_s`` a metadata request for the dead-letter topic, from a
worker thread with a ``timeout_s`` deadline, through the dead-letter producer's connections. An
answer proves a broker round trip and says whether the dead-letter topic exists and may be
described; no answer in time, or an error for the topic, is a problem named in ``/readyz``.
The pipeline uses a quarter of ``kafka.session_timeout_ms`` for both, so a broker that stops
answering makes the process unready within half the session timeout (the consumer's group
session would expire at the full one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

__all__ = ["ClusterProbe", "Heartbeats"]

log = logging.getLogger("streamer.health")


class Heartbeats:
    def __init__(self, timeout_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout_s = timeout_s
        self._clock = clock
        self._last: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    def beat(self, name: str) -> None:
        """Stamp ``name`` now (a dict store: safe and cheap from any thread)."""
        self._last[name] = self._clock()

    def retire(self, name: str) -> None:
        self._last.pop(name, None)

    def check(self) -> tuple[bool, str]:
        now = self._clock()
        silent = [f"{name} silent for {now - last:.0f}s"
                  for name, last in list(self._last.items()) if now - last > self.timeout_s]
        return (False, "; ".join(silent)) if silent else (True, "alive")

    def start_ticking(self, name: str = "event loop") -> None:
        """Stamp ``name`` from a task on the running loop until :meth:`stop_ticking`."""
        self.beat(name)
        self._task = asyncio.get_running_loop().create_task(self._tick(name))

    async def stop_ticking(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _tick(self, name: str) -> None:
        interval = min(1.0, self.timeout_s / 5)
        while True:
            self.beat(name)
            await asyncio.sleep(interval)


class ClusterProbe:
    """Calls ``check(timeout_s)`` every ``interval_s`` on a worker thread; ``check`` returns
    ``None`` when all is well, or the problem in a few words."""

    def __init__(
        self,
        check: Callable[[float], str | None],
        *,
        interval_s: float,
        timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._check = check
        self._interval = interval_s
        self._timeout = timeout_s
        self._clock = clock
        self._started = clock()
        self._last_ok: float | None = None
        self._problem: str | None = "no answer from Kafka yet"
        self._task: asyncio.Task[None] | None = None

    def state(self) -> tuple[bool, str]:
        now = self._clock()
        # A probe that hangs past its own deadline (it should not) must not leave a stale "ok".
        stale = 2 * (self._interval + self._timeout)
        since = now - (self._last_ok if self._last_ok is not None else self._started)
        if self._problem is None and since > stale:
            return False, f"no answer from Kafka for {since:.0f}s"
        if self._problem is not None:
            return False, self._problem
        return True, "Kafka answers"

    def start(self) -> None:
        self._started = self._clock()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            started = self._clock()
            try:
                problem = await asyncio.to_thread(self._check, self._timeout)
            except Exception as exc:  # a probe that fails is a problem to show, not a crash
                problem = f"probing Kafka failed: {type(exc).__name__}"
            if problem is None:
                if self._problem is not None and self._last_ok is not None:
                    log.info("Kafka answers again")
                self._last_ok = self._clock()
            elif problem != self._problem:
                log.warning("not ready: %s", problem)
            self._problem = problem
            await asyncio.sleep(max(0.0, self._interval - (self._clock() - started)))
