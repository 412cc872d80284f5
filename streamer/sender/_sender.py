"""Delivering batches: one task per batch, from first attempt to the last item's fate.

Lifecycle of a batch handed to :meth:`Sender.submit`:

1. Wait for the key to be usable (a 401/403 anywhere pauses every batch, see below).
2. Take a place from the endpoint's :class:`Governor` (adaptive concurrency), POST (the client
   takes a token of the process's rate budget first), give the place back: on every path,
   cancellation and bugs included.
3. Read the answer through the :class:`RetryPolicy`: items accepted are reported delivered;
   items refused for good are reported rejected; retryable items (or the whole batch) wait a
   backoff and go round again, until the retry budget is spent (then: ``retries_exhausted``).
   A 413 splits the batch in halves, each delivered on its own.

On 401/403 the sender stops every batch before its next attempt, tells the sink (which pauses
consumption and turns readiness off), and probes ``/me`` with growing pauses, never hammering
Ortto (which bans a caller after 15 bad requests in 15 seconds). The time spent paused does not
count against any batch's retry budget.

Accounting: ``in_flight_items`` counts items handed over and not yet reported. A task that ends
without reporting some items (cancelled at shutdown, or a bug) gives them back when it ends.

A bug that escapes a delivery task (or the key probe) is fatal and visible, never a partition
stalled until a restart: it is logged at once and latched (``Sender.failure``);
:meth:`Sender.raise_if_failed`, called by the pipeline on every turn of its loop, raises it as a
:class:`~streamer.DeliveryError`, so the pipeline stops, turns unready and ``streamer run`` exits
with a non-zero status. Every request to Ortto, failed ones included, is reported to
``on_request(endpoint, status_class, items, seconds)`` (status class: ``2xx``, ``4xx``, ``429``,
``5xx``, or ``error`` when there was no HTTP answer; ``items``: 0 for the key probe). Seconds are
the client's own measure when Ortto answered (after the rate token); without an answer the
sender measures from the call to the failure, a rate token's wait included.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from .._exceptions import AuthenticationError, DeliveryError, RequestError
from ..batching import Batch
from ._answers import ItemError, parse_item_errors, retry_after_seconds
from ._client import OrttoClient, PostResult
from ._governor import Governor, Governors
from ._policy import RequestVerdict, RetryPolicy

__all__ = ["DeliverySink", "Sender"]

log = logging.getLogger("streamer.sender")


class DeliverySink(Protocol):
    """Where the fate of each item is reported (the pipeline)."""

    def delivered(self, batch: Batch, indexes: Sequence[int] | None, seconds: float) -> None:
        """Items accepted by Ortto (``None``: all of the batch)."""

    def rejected(
        self, batch: Batch, index: int, *, status: int | None, message: str, reason: str,
        error_class: str | None = None,
    ) -> None:
        """One item is refused for good: dead-letter it. ``status`` is ``None`` when Ortto gave
        no HTTP answer; then ``error_class`` names the exception of the last failure."""

    def retrying(self, batch: Batch, count: int, reason: str) -> None:
        """``count`` items will be sent again."""

    def abandoned(self, batch: Batch, indexes: Sequence[int]) -> None:
        """Items no longer sent: their partitions were revoked before a retry (their next
        owner redoes them)."""

    def auth_changed(self, ok: bool) -> None:
        """The key was refused (``False``) or works again (``True``)."""


class _Unreported:
    """How many items of one delivery task are not reported yet."""

    __slots__ = ("count",)

    def __init__(self, count: int) -> None:
        self.count = count


def _outcome(status: int) -> str:
    return "429" if status == 429 else f"{status // 100}xx"


class Sender:
    def __init__(
        self,
        client: OrttoClient,
        sink: DeliverySink,
        *,
        policy: RetryPolicy,
        governor: Governor | Governors,
        clock: Callable[[], float] = time.monotonic,
        probe_initial_s: float = 1.0,
        probe_max_s: float = 30.0,
        on_request: Callable[[str, str, int, float], None] | None = None,
    ) -> None:
        self._client = client
        self._sink = sink
        self._policy = policy
        # One governor per endpoint (Governors), or one shared by all (a bare Governor).
        self._governor_for: Callable[[str], Governor] = (
            governor.for_path if isinstance(governor, Governors) else lambda _path: governor
        )
        self._clock = clock
        self._on_request = on_request
        self._tasks: set[asyncio.Task[None]] = set()
        self._key_ok = asyncio.Event()
        self._key_ok.set()
        self._prober: asyncio.Task[None] | None = None
        self._probe_initial_s = probe_initial_s
        self._probe_max_s = probe_max_s
        self.in_flight_items = 0
        """Items handed over and not yet reported delivered or rejected."""
        self.in_flight_bytes = 0
        """Request bytes of the batches whose delivery tasks are running (a task's batch is
        counted whole until it ends, retries of a part of it included)."""
        self.failure: BaseException | None = None
        """The first bug that escaped a delivery task or the key probe (latched)."""

    @property
    def key_ok(self) -> bool:
        return self._key_ok.is_set()

    def raise_if_failed(self) -> None:
        """Raise the latched failure of a delivery task, if any, as a DeliveryError."""
        failure = self.failure
        if failure is not None:
            raise DeliveryError(
                f"a delivery task failed: {type(failure).__name__}: {failure}"
            ) from failure

    def submit(self, batch: Batch) -> None:
        self.in_flight_items += len(batch)
        self._spawn(batch)

    def _spawn(self, batch: Batch) -> None:
        self.in_flight_bytes += batch.nbytes
        task = asyncio.get_running_loop().create_task(self._deliver(batch))
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._latch(task, "a delivery task")

    def _latch(self, task: asyncio.Task[None], what: str) -> None:
        if task.cancelled():
            return
        failure = task.exception()
        if failure is None:
            return
        log.error("%s failed (processing stops): %s", what, type(failure).__name__,
                  exc_info=failure)
        if self.failure is None:
            self.failure = failure

    async def drain(self, timeout: float | None) -> bool:
        """Wait until every batch has its fate; ``False`` if the deadline came first."""
        deadline = None if timeout is None else self._clock() + timeout
        while self._tasks:
            left = None if deadline is None else deadline - self._clock()
            if left is not None and left <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=left)
        return True

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._prober is not None:
            self._prober.cancel()
        await asyncio.gather(*self._tasks, *([self._prober] if self._prober else []),
                             return_exceptions=True)
        self._tasks.clear()

    def _count(self, path: str, outcome: str, items: int, seconds: float) -> None:
        if self._on_request is not None:
            self._on_request(path, outcome, items, seconds)

    # -- one batch -------------------------------------------------------------------------

    async def _deliver(self, batch: Batch) -> None:
        unreported = _Unreported(len(batch))
        try:
            await self._deliver_until_done(batch, unreported)
        finally:
            # Cancelled, or a bug: what was not reported no longer counts as in flight.
            self.in_flight_items -= unreported.count
            self.in_flight_bytes -= batch.nbytes

    def _reported(self, unreported: _Unreported, count: int) -> None:
        self.in_flight_items -= count
        unreported.count -= count

    async def _post(self, governor: Governor, batch: Batch) -> PostResult | RequestError:
        """One request under the endpoint's governor; its place is given back on every path."""
        path = batch.route.path
        await governor.acquire()
        started = time.perf_counter()
        try:
            result = await self._client.post(path, batch.body())
        except RequestError as exc:
            governor.release(congested=True)
            self._count(path, "error" if exc.status is None else _outcome(exc.status),
                        len(batch), time.perf_counter() - started)
            return exc
        except BaseException:
            governor.give_back()  # cancelled, or a bug: no answer to learn from
            raise
        status = result.status
        governor.release(congested=status == 429 or status >= 500, latency_s=result.seconds)
        self._count(path, _outcome(status), len(batch), result.seconds)
        return result

    async def _deliver_until_done(self, batch: Batch, unreported: _Unreported) -> None:
        policy = self._policy
        governor = self._governor_for(batch.route.path)
        while batch.items:
            await self._key_ok.wait()
            if batch.attempts:
                # A retry: items of partitions revoked meanwhile belong to their next owner,
                # who redoes them from the last commit; sending them again would only duplicate.
                gone = batch.revoked_indexes()
                if gone:
                    self._reported(unreported, len(gone))
                    self._sink.abandoned(batch, gone)
                    batch = batch.without(gone)
                    if not batch.items:
                        return
            hint: float | None = None
            status: int | None = None
            error_class: str | None = None
            answer = await self._post(governor, batch)
            if isinstance(answer, RequestError):
                reason = str(answer)
                status, error_class = answer.status, answer.error_class
            else:
                result = answer
                status = result.status
                verdict = policy.verdict(status)
                if verdict is RequestVerdict.ANSWERED:
                    errors = parse_item_errors(result.body, len(batch))
                    if errors is not None:
                        batch = self._read_answer(batch, errors, result.seconds, unreported)
                        if not batch.items:
                            return
                        reason = "item_retryable"
                        hint = None
                    else:
                        reason = f"HTTP {status} with an unreadable answer"
                elif verdict is RequestVerdict.AUTH:
                    self._key_refused(status)
                    batch.first_failure = None
                    continue
                elif verdict is RequestVerdict.SPLIT:
                    self._split(batch, unreported)
                    return
                elif verdict is RequestVerdict.REJECT:
                    message = _text(result.body) or f"HTTP {status}"
                    self._reject_all(batch, unreported, status, message, "rejected")
                    return
                else:
                    reason = f"HTTP {status}"
                    if status == 429:
                        hint = retry_after_seconds(result.headers, result.body)
            if not await self._wait_retry(batch, unreported, reason, hint, status=status,
                                          error_class=error_class):
                return

    def _read_answer(
        self, batch: Batch, errors: Sequence[ItemError], seconds: float, unreported: _Unreported
    ) -> Batch:
        """Report accepted and refused items; return the batch of items to retry."""
        if not errors:
            self._reported(unreported, len(batch))
            self._sink.delivered(batch, None, seconds)
            return batch.subset(())
        failed: dict[int, tuple[int, str]] = {}
        for error in errors:
            failed[error.index] = (error.status, error.message)
        accepted = [i for i in range(len(batch)) if i not in failed]
        if accepted:
            self._reported(unreported, len(accepted))
            self._sink.delivered(batch, accepted, seconds)
        retry: list[int] = []
        for index, (status, message) in sorted(failed.items()):
            if self._policy.item_retryable(status):
                retry.append(index)
            else:
                self._reported(unreported, 1)
                self._sink.rejected(batch, index, status=status, message=message,
                                    reason="rejected")
        return batch.subset(retry)

    async def _wait_retry(
        self, batch: Batch, unreported: _Unreported, reason: str, hint: float | None, *,
        status: int | None, error_class: str | None,
    ) -> bool:
        now = self._clock()
        if batch.first_failure is None:
            batch.first_failure = now
        wait = self._policy.backoff(batch.attempts, hint)
        if self._policy.exhausted(batch.first_failure, now, wait):
            attempts = batch.attempts + 1
            message = (f"retries exhausted after {attempts} attempt(s) over "
                       f"{now - batch.first_failure:.1f}s; last failure: {reason}")
            self._reject_all(batch, unreported, status, message, "retries_exhausted",
                             error_class=None if status is not None else error_class)
            return False
        batch.attempts += 1
        self._sink.retrying(batch, len(batch), reason)
        await asyncio.sleep(wait)
        return True

    def _split(self, batch: Batch, unreported: _Unreported) -> None:
        if len(batch) == 1:
            self._reject_all(batch, unreported, 413, "item too large for one request",
                             "payload_too_large")
            return
        # The halves are tasks of their own and account for their items themselves.
        unreported.count = 0
        for half in batch.halves():
            self._spawn(half)

    def _reject_all(
        self, batch: Batch, unreported: _Unreported, status: int | None, message: str,
        reason: str, *, error_class: str | None = None,
    ) -> None:
        for index in range(len(batch)):
            self._reported(unreported, 1)
            self._sink.rejected(batch, index, status=status, message=message, reason=reason,
                                error_class=error_class)

    # -- the key ---------------------------------------------------------------------------

    def _key_refused(self, status: int) -> None:
        if self._key_ok.is_set():
            log.error("Ortto refused the API key (HTTP %s): delivery paused", status)
            self._key_ok.clear()
            self._sink.auth_changed(False)
        if self._prober is None or self._prober.done():
            self._prober = asyncio.get_running_loop().create_task(self._probe_key())
            self._prober.add_done_callback(lambda task: self._latch(task, "the key probe"))

    async def _probe_key(self) -> None:
        wait = self._probe_initial_s
        while True:
            await asyncio.sleep(wait)
            started = time.perf_counter()
            try:
                await self._client.check_key()
            except AuthenticationError as exc:
                self._count("/me", _outcome(exc.status), 0, time.perf_counter() - started)
                wait = min(self._probe_max_s, wait * 2)
                continue
            except RequestError as exc:
                self._count("/me", "error" if exc.status is None else _outcome(exc.status), 0,
                            time.perf_counter() - started)
                log.warning("probing the key failed: %s", exc)
                wait = min(self._probe_max_s, wait * 2)
                continue
            self._count("/me", "2xx", 0, time.perf_counter() - started)
            log.info("Ortto accepts the API key again: delivery resumes")
            self._key_ok.set()
            self._sink.auth_changed(True)
            return


def _text(body: bytes) -> str:
    # Whole: the dead-letter record keeps Ortto's message (it cuts a header at its own limit);
    # log lines never quote it.
    return body.decode("utf-8", "replace").strip()
