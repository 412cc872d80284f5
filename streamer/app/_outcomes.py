"""What the sender's answers do: settle tickets, dead-letter refusals, count (delivered items
and dead letters by subscription; requests, their latency and size are counted by the
pipeline's ``on_request`` hook, for every request).

A refusal for an item whose partition was revoked meanwhile is dropped here: the partition's
next owner consumes the message again from the last commit and decides its fate itself.

With per-contact ordering, every fate (delivered, refused, dropped on a revocation) confirms the
item to the gate (``batching/_ordering.py``), which sends the contact's next held item to its
window; then ``on_released`` lets the pipeline send the windows that filled at once, rather than
after its next poll (up to ``poll_timeout`` later while consumption is paused: a contact's items
go one round trip each, so that wait was paid once per item of a contact).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from ..batching import Batch, ContactOrder
from ..deadletter import DeadLetterWriter, Rejection
from ..observability import LogSummariser, Metrics
from ..offsets import settle_all

__all__ = ["Outcomes"]

log = logging.getLogger("streamer.sender")


class Outcomes:
    """The pipeline's :class:`~streamer.sender.DeliverySink`."""

    def __init__(
        self,
        *,
        dead_letter: DeadLetterWriter,
        metrics: Metrics,
        on_auth_changed: Callable[[bool], None],
        wall_clock: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
        order: ContactOrder | None = None,
        on_released: Callable[[], None] | None = None,
    ) -> None:
        self._dead_letter = dead_letter
        self._order = order
        self._on_released = on_released or _nothing
        """Called after the gate confirmed items (it may have released held ones)."""
        self._metrics = metrics
        self._on_auth_changed = on_auth_changed
        self._wall = wall_clock
        self.delivered_items = 0
        self.rejected_items = 0
        # Retries are logged like dead letters: one line per reason every 10 s, with a count.
        self._retries = LogSummariser(log, what="retrying", level=logging.INFO, clock=clock)

    def delivered(self, batch: Batch, indexes: Sequence[int] | None, seconds: float) -> None:
        tickets = batch.tickets if indexes is None else [batch.tickets[i] for i in indexes]
        ages = settle_all(tickets, self._wall() * 1000.0)
        if self._order is not None:
            self._order.confirmed(batch, indexes)
            self._on_released()
        count = len(tickets)
        self.delivered_items += count
        metrics = self._metrics
        # One call per answered request; its latency and size are observed with the request
        # itself (the sender's on_request), failed requests included.
        route = batch.route
        metrics.delivered.labels(route.action, route.name).inc(count)
        metrics.end_to_end.observe_many(ages)

    def rejected(
        self, batch: Batch, index: int, *, status: int | None, message: str, reason: str,
        error_class: str | None = None,
    ) -> None:
        ticket = batch.tickets[index]
        if self._order is not None:
            self._order.confirmed_one(batch.route.path, batch.contacts[index])
            self._on_released()
        if ticket.partition.revoked:
            return
        self.rejected_items += 1
        route = batch.route
        self._metrics.dead_letter("deliver", reason, route.name).inc()
        now = self._wall()
        first = now - (time.monotonic() - batch.first_failure) if batch.first_failure else now
        rejection = Rejection(
            "deliver", reason, message, status, error_class=error_class, action=route.action,
            subscription=route.name,
            config_hash=route.config_hash, message_id=_item_message_id(batch.items[index]),
            attempts=batch.attempts + 1, first_failure=first, last_failure=now,
        )
        # The log line may say what the sender made of the last failure; never what Ortto
        # wrote (its message may quote event values: the dead-letter record keeps it whole).
        detail = message if reason == "retries_exhausted" else ""
        self._dead_letter.write(ticket.message, rejection, ticket, log_detail=detail)

    def abandoned(self, batch: Batch, indexes: Sequence[int]) -> None:
        if self._order is not None:
            self._order.confirmed(batch, indexes)
            self._on_released()

    def retrying(self, batch: Batch, count: int, reason: str) -> None:
        label = _reason_label(reason)
        self._metrics.retried.labels(label).inc(count)
        example = batch.tickets[0].message if batch.tickets else None
        if example is not None:
            self._retries.note(
                "deliver", label, example.topic(), example.partition(), example.offset(),
                count=count, detail=reason,
            )

    def flush_log(self, *, everything: bool = False) -> None:
        """Write the retry summary lines that are due (``everything``: all still held)."""
        if everything:
            self._retries.flush()
        else:
            self._retries.flush_due()

    def auth_changed(self, ok: bool) -> None:
        self._on_auth_changed(ok)


def _item_message_id(item: bytes) -> str | None:
    try:
        value: Any = orjson.loads(item).get("message_id")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _reason_label(reason: str) -> str:
    # Keep label cardinality small: "HTTP 503" -> "http_503", free text -> "transport".
    if reason.startswith("HTTP "):
        return "http_" + reason[5:8]
    if reason == "item_retryable":
        return reason
    return "transport"


def _nothing() -> None:
    return None
