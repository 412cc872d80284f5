"""Writing dead-letter records, and counting a reject as done only once the broker has it.

The producer is idempotent with ``acks=all``. Each record carries the ticket of its source
message; the delivery report settles it. A failed report is latched (as quix-streams does): the
next :meth:`raise_if_failed` (run by every checkpoint) raises :class:`DeadLetterError`, so
processing stops instead of committing past a reject that was never written.

Delivery reports are served by :meth:`poll`, called from the pipeline's own thread, so tickets
are only ever touched by one thread.

Until its report, a record is held twice: by the producer's queue (value, key and headers) and
by the ticket's source message. ``pending`` and ``pending_bytes`` count the records produced and
not yet reported (the producer's copy; the tracker counts the source message): the pipeline's
back-pressure reads them as ``held_items`` and ``held_bytes``.

Every record written is noted in a :class:`~streamer.observability.LogSummariser`: at most one
log line per ``(stage, reason)`` every 10 s, with the count and one example's coordinates. The
line never quotes the record's message (it may be Ortto's, quoting event values); a caller may
give a ``log_detail`` of its own making (the sender's "retries exhausted after HTTP 503").
"""

from __future__ import annotations

import logging
import time
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from .._exceptions import DeadLetterError
from ..observability import LogSummariser, kafka_logger
from ..offsets import Ticket
from ._record import Rejection, build_headers

__all__ = ["DeadLetterWriter"]

log = logging.getLogger("streamer.deadletter")
_KAFKA_LOG = kafka_logger()

_RECORD_OVERHEAD = 200
"""Bytes librdkafka keeps per queued record besides its value, key and headers (its message
and header structures), and the delivery callback's closure."""

_DEFAULTS = {
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 20,
    "compression.type": "lz4",
}


class DeadLetterWriter:
    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        *,
        extra: dict[str, Any] | None = None,
        max_value_bytes: int = 900_000,
        summary: LogSummariser | None = None,
    ) -> None:
        # librdkafka's own messages become log records (forwarded from poll() and flush()).
        config: dict[str, Any] = {
            "bootstrap.servers": bootstrap_servers, **_DEFAULTS, "logger": _KAFKA_LOG,
        }
        config.update(extra or {})
        config.setdefault("message.max.bytes", max_value_bytes + 100_000)
        self.topic = topic
        self._producer = Producer(config)
        self._failure: DeadLetterError | None = None
        self._max_value = max_value_bytes
        self.pending = 0
        """Records produced and not yet acknowledged."""
        self.pending_bytes = 0
        """Bytes of the records produced and not yet acknowledged (value, key, headers)."""
        self.written = 0
        self._summary = summary or LogSummariser(log, what="dead-lettered")

    def write(
        self, message: Any, rejection: Rejection, ticket: Ticket | None, *, log_detail: str = ""
    ) -> None:
        """Queue one record for ``message``; the ticket settles when the broker has it."""
        self.raise_if_failed()
        value: bytes | None = message.value()
        truncated_from = None
        if value is not None and len(value) > self._max_value:
            truncated_from = len(value)
            value = value[: self._max_value]
        timestamp_type, timestamp = message.timestamp()
        headers = build_headers(
            rejection,
            topic=message.topic(),
            partition=message.partition(),
            offset=message.offset(),
            timestamp_ms=timestamp if timestamp_type else None,
            source_headers=message.headers(),
            truncated_from=truncated_from,
        )

        key: bytes | None = message.key()
        nbytes = _RECORD_OVERHEAD + len(value or b"") + len(key or b"") + sum(
            len(name) + len(data or b"") for name, data in headers)

        def delivered(err: Any, _msg: Any) -> None:
            self.pending -= 1
            self.pending_bytes -= nbytes
            if err is not None:
                if self._failure is None:
                    self._failure = DeadLetterError(
                        f"dead-letter record for {message.topic()}[{message.partition()}]@"
                        f"{message.offset()} was not written to {self.topic}: {err}"
                    )
                return
            self.written += 1
            if ticket is not None:
                ticket.settle()

        while True:
            try:
                self._producer.produce(
                    self.topic, value=value, key=key, headers=headers,
                    on_delivery=delivered,
                )
                break
            except BufferError:
                # The local queue is full: serve delivery reports until there is room.
                self._producer.poll(0.05)
            except KafkaException as exc:
                raise DeadLetterError(
                    f"cannot write to dead-letter topic {self.topic}: {exc}"
                ) from None
        self.pending += 1
        self.pending_bytes += nbytes
        self._summary.note(
            rejection.stage, rejection.reason, message.topic(), message.partition(),
            message.offset(), status=rejection.status, detail=log_detail,
        )

    @property
    def held_items(self) -> int:
        """Records not yet acknowledged (a back-pressure holder, ``app/_backpressure.py``)."""
        return self.pending

    @property
    def held_bytes(self) -> int:
        return self.pending_bytes

    @property
    def failed(self) -> bool:
        """A record could not be written (the next checkpoint raises)."""
        return self._failure is not None

    def probe(self, timeout_s: float) -> str | None:
        """One metadata round trip for the topic (any thread): ``None`` when a broker answered
        and the topic may be written, else the problem in a few words (for ``/readyz``)."""
        if self._failure is not None:
            return f"a record could not be written to dead-letter topic {self.topic}"
        try:
            metadata = self._producer.list_topics(self.topic, timeout=timeout_s)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            name = error.name() if isinstance(error, KafkaError) else type(exc).__name__
            return f"the Kafka cluster did not answer a metadata request in {timeout_s:g}s ({name})"
        topic = metadata.topics.get(self.topic)
        if topic is None or topic.error is not None:
            why = "missing" if topic is None else topic.error.name()
            return f"dead-letter topic {self.topic} cannot be written ({why})"
        return None

    def flush_log(self, *, everything: bool = False) -> None:
        """Write the summary lines that are due (``everything``: all counts still held)."""
        if everything:
            self._summary.flush()
        else:
            self._summary.flush_due()

    def poll(self) -> None:
        self._producer.poll(0)

    def raise_if_failed(self) -> None:
        if self._failure is not None:
            raise self._failure

    def flush(self, timeout_s: float) -> int:
        """Wait for every acknowledgement (or the timeout); return what is still unacknowledged."""
        deadline = time.monotonic() + timeout_s
        while self.pending and time.monotonic() < deadline:
            self._producer.flush(min(0.2, max(0.0, deadline - time.monotonic())))
        return self.pending

    def close(self, timeout_s: float = 5.0) -> None:
        self.flush(timeout_s)
