"""The hot path: from consumed messages to items in windows, rejects and bookkeeping.

Per message: decode, route (triggers and mappings compiled at start-up), then register the
message with the offset tracker with as many pieces of work as it produced. Accepted items are
serialised once and go to their route's window (through the per-contact ordering gate, when
``delivery.ordering`` is ``per_contact``: ``batching/_ordering.py``); rejected ones go to the
dead-letter writer;
skipped ones settle at once. A message that matched nothing, or whose ``integrations`` object
turns this destination off (the router returns ``TURNED_OFF`` for it), is done at once and
allocates nothing in the tracker; ``streamer_filtered_messages_total`` counts both, by ``reason``
(``no_subscription``, ``integrations``). After a poll batch that was at least half filtered,
the next one's JSON values meet the router's screen first (``routing/_screen.py``): the
values it filters are never decoded.

Counters are added once per poll batch, not per message (dead letters: per letter, from a cached
label child). The Kafka timestamp of the last message dispatched is kept per partition, once per
run of one partition in a poll batch (``last_dispatched``, for ``streamer_consumer_lag_seconds``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
from orjson import JSONDecodeError

from .._exceptions import DecodeError, KafkaClientError
from ..batching._batcher import Batcher
from ..batching._ordering import ContactOrder
from ..deadletter import DeadLetterWriter, Rejection
from ..observability import Metrics
from ..offsets._tracker import OffsetTracker, PartitionOffsets, TopicPartitionKey
from ..routing._types import TURNED_OFF, Accepted, Rejected
from ..source import Decoder, decode_json

__all__ = ["Dispatcher"]

log = logging.getLogger("streamer.dispatch")


class Dispatcher:
    def __init__(
        self,
        *,
        decode: Decoder,
        route: Callable[[Any], list[Any]],
        tracker: OffsetTracker,
        batcher: Batcher,
        dead_letter: DeadLetterWriter,
        metrics: Metrics,
        clock: Callable[[], float],
        max_event_bytes: int = 1_000_000,
        order: ContactOrder | None = None,
        screen: Callable[[bytes], list[Any] | None] | None = None,
    ) -> None:
        self._decode = decode
        self._json = decode is decode_json
        """JSON input: the loop calls orjson.loads itself, decode_json only to name a refusal."""
        self._screen = screen if self._json else None
        self.screening = False
        """Whether this poll batch's JSON values go through the router's screen first: decided
        from the previous batch (at least half of it filtered), see ``routing/_screen.py``."""
        self._order = order
        self._max_event_bytes = max_event_bytes
        self._route = route
        self._tracker = tracker
        self._batcher = batcher
        self._dead_letter = dead_letter
        self._metrics = metrics
        self._clock = clock
        self.consumed = 0
        self.filtered = 0
        """Messages done at once without an outcome, both reasons together."""
        self.turned_off = 0
        """Of those, the ones whose ``integrations`` turned this destination off."""
        self.rejected_local = 0
        self.last_dispatched: dict[TopicPartitionKey, tuple[PartitionOffsets, int]] = {}
        """Per partition, its state and the Kafka timestamp (ms) of the last message dispatched:
        recorded once per run of one partition in a poll batch, for the lag in seconds."""

    def process(self, messages: list[Any]) -> None:
        now = self._clock()
        tracker = self._tracker
        decode, route, batcher = self._decode, self._route, self._batcher
        order = self._order
        max_item, max_event = batcher.max_item_bytes, self._max_event_bytes
        dumps, loads, json = orjson.dumps, orjson.loads, self._json
        screen = self._screen if self.screening else None
        per_topic: dict[str, int] = {}
        filtered = turned_off = skipped = run = 0
        # Fetches come in runs of one partition: look its state up once per run.
        last_topic, last_partition = "", -1
        state: PartitionOffsets | None = None
        last: Any = None  # the last message of the current run
        for message in messages:
            if message.error() is not None:
                self._consumer_error(message)
                continue
            partition = message.partition()
            if partition != last_partition or state is None or message.topic() != last_topic:
                if run:
                    per_topic[last_topic] = per_topic.get(last_topic, 0) + run
                    run = 0
                if last is not None and state is not None:
                    self._stamp(state, last)
                last_topic, last_partition = message.topic(), partition
                state = tracker.partition(last_topic, partition)
            run += 1
            last = message
            offset = message.offset()
            value = message.value()
            try:
                if value is not None and len(value) > max_event:
                    raise DecodeError(
                        f"the value has {len(value):,} bytes, more than kafka.max_event_bytes "
                        f"({max_event:,})", reason="too_large")
                # The router's answer for a value it filters, told without decoding it (None:
                # decode and route it; the decode also names any refusal).
                outcomes = screen(value) if screen is not None and value is not None else None
                if outcomes is None:
                    if json and value is not None:
                        # decode_json's own call, without its frame (the filter path is mostly
                        # this); what it would refuse, it is asked to name.
                        try:
                            parsed: Any = loads(value)
                        except JSONDecodeError:
                            parsed = None
                        event = parsed if type(parsed) is dict else decode(value)
                    else:
                        event = decode(value)
            except DecodeError as exc:
                ticket = state.dispatch(offset, 1, now, message)
                self._reject(message, ticket, Rejection("decode", exc.reason, str(exc), 400))
                continue
            if outcomes is None:
                try:
                    outcomes = route(event)
                except Exception as exc:  # a bug or a pathological event must not stop the stream
                    ticket = state.dispatch(offset, 1, now, message)
                    self._reject(message, ticket, Rejection(
                        "validate", "mapping_failed", f"{type(exc).__name__}: {exc}"[:500], 400,
                        message_id=_message_id(event)))
                    continue
            if not outcomes:
                state.dispatch(offset, 0)
                if outcomes is TURNED_OFF:
                    turned_off += 1
                else:
                    filtered += 1
                continue
            ticket = state.dispatch(offset, len(outcomes), now, message)
            assert ticket is not None  # parts > 0
            for outcome in outcomes:
                kind = type(outcome)
                if kind is Accepted:
                    try:
                        # A copy of exact size: orjson's bytes keep their 4 KB buffer (3.13:
                        # 4,097 bytes held for a 192-byte item, tracemalloc), and items wait
                        # in windows, in flight and held for ordering by the ten thousand.
                        item = memoryview(dumps(outcome.item)).tobytes()
                    except TypeError as exc:
                        self._reject(message, ticket, self._rejection(
                            outcome.route, 400, f"item cannot be serialised: {exc}",
                            "serialise", event))
                        continue
                    if len(item) > max_item:
                        self._reject(message, ticket, self._rejection(
                            outcome.route, 413,
                            f"the item has {len(item):,} bytes of JSON, more than one request "
                            "may carry (batching.max_bytes)", "too_large", event))
                        continue
                    if order is None:
                        batcher.add(outcome.route, item, ticket)
                    else:
                        mapped = outcome.item
                        order.add(outcome.route, item, ticket,
                                  mapped.get("user_id") or mapped.get("anonymous_id"))
                elif kind is Rejected:
                    self._reject(message, ticket, self._rejection(
                        outcome.route, outcome.status, outcome.message, "validation", event))
                else:
                    skipped += 1
                    self._metrics.skipped.labels(outcome.route.action).inc()
                    ticket.settle()
        if run:
            per_topic[last_topic] = per_topic.get(last_topic, 0) + run
        if last is not None and state is not None:
            self._stamp(state, last)
        # A screened value that is then decoded is parsed twice: screen only where at least
        # half is filtered (same outcomes either way, only the cost differs).
        if messages and self._screen is not None:
            self.screening = (filtered + turned_off) * 2 >= len(messages)
        for topic, count in per_topic.items():
            self._metrics.consumed.labels(topic).inc(count)
            self.consumed += count
        if filtered:
            self._metrics.filtered.labels("no_subscription").inc(filtered)
            self.filtered += filtered
        if turned_off:
            self._metrics.filtered.labels("integrations").inc(turned_off)
            self.filtered += turned_off
            self.turned_off += turned_off

    def _stamp(self, state: PartitionOffsets, message: Any) -> None:
        kind, stamp = message.timestamp()
        if kind:  # 0: the message has no timestamp
            self.last_dispatched[state.key] = (state, stamp)

    def _rejection(
        self, route: Any, status: int, message: str, reason: str, event: dict[str, Any]
    ) -> Rejection:
        return Rejection(
            "validate", reason, message, status, action=route.action,
            subscription=route.name, config_hash=route.config_hash,
            message_id=_message_id(event),
        )

    def _reject(self, message: Any, ticket: Any, rejection: Rejection) -> None:
        self.rejected_local += 1
        self._metrics.dead_letter(
            rejection.stage, rejection.reason, rejection.subscription or "").inc()
        self._dead_letter.write(message, rejection, ticket)

    def _consumer_error(self, message: Any) -> None:
        error = message.error()
        if error.fatal():
            raise KafkaClientError(f"fatal consumer error: {error}")
        log.warning("consumer error (librdkafka retries by itself): %s", error)


def _message_id(event: Any) -> str | None:
    value = event.get("messageId") if isinstance(event, dict) else None
    return value if isinstance(value, str) else None
