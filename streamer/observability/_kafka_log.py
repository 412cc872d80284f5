"""librdkafka's messages as log records of ``streamer.kafka``, throttled.

The Kafka clients (consumer, dead-letter producer, the demo's producer) are given
:func:`kafka_logger` as their ``logger``; confluent-kafka forwards each librdkafka message as a
record ``"%s [%s] %s" % (facility, client name, text)`` from inside ``consume()``/``poll()``.
An unreachable broker makes librdkafka say the same thing many times a second (every reconnect
attempt of every client); :class:`KafkaLogThrottle`, a filter on that logger, lets through the
first message of a kind, then at most one per ``window_s`` (10 s), and that one says how many
like it were held back since the last line:

    FAIL [rdkafka#consumer-1] ... Connect to ipv4#127.0.0.1:9092 failed: Connection refused
        (+41 like it in the last 10s)

"Of a kind" is the level, the facility and the text with every number replaced by ``#``
(addresses, ports, milliseconds, broker ids), whichever client said it, so "after 0ms" and
"after 1ms" are one kind and a different complaint still gets its own first line at once.
What is held back when the messages stop (the broker is back) is not written: the last summary
line was at most a window ago.

The filter is thread-safe (the consumer's worker thread and the loop thread both log here).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable

__all__ = ["KafkaLogThrottle", "kafka_logger"]

KAFKA_LOGGER_NAME = "streamer.kafka"
_NUMBERS = re.compile(r"\d+")
_WINDOW_S = 10.0
_MAX_KINDS = 1_000  # a bound on memory should the client invent new texts forever


class KafkaLogThrottle(logging.Filter):
    """Let through one record of a kind per window; the next one carries the count held back."""

    def __init__(
        self, window_s: float = _WINDOW_S, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._kinds: dict[tuple[int, str], tuple[float, int]] = {}
        """kind -> (when its last line was let through, how many held back since)."""
        self.seen = 0
        self.passed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        kind = (record.levelno, _kind(record))
        now = self._clock()
        with self._lock:
            self.seen += 1
            last, held = self._kinds.get(kind, (float("-inf"), 0))
            if now - last < self.window_s:
                self._kinds[kind] = (last, held + 1)
                return False
            if len(self._kinds) >= _MAX_KINDS and kind not in self._kinds:
                self._forget_quiet(now)
            self._kinds[kind] = (now, 0)
            self.passed += 1
        if held:
            # A filter may amend the record it lets through (the logging docs' "contextual
            # information" recipe); the arguments stay arguments, so nothing is formatted twice.
            record.msg = f"{record.msg} (+%d like it in the last %.0fs)"
            record.args = (*_args(record), held, now - last)
        return True

    def _forget_quiet(self, now: float) -> None:
        for kind, (last, _held) in list(self._kinds.items()):
            if now - last >= self.window_s:
                del self._kinds[kind]


def _args(record: logging.LogRecord) -> tuple[object, ...]:
    args = record.args
    if isinstance(args, tuple):
        return args
    return () if args is None else (args,)


def _kind(record: logging.LogRecord) -> str:
    args = record.args
    if isinstance(args, tuple) and len(args) == 3:
        # confluent-kafka's (facility, client name, text). The client is not part of the kind:
        # the consumer and the dead-letter producer failing to reach the same broker is one
        # problem, worth one line per window (the line names the client that said it first).
        facility, _client, text = args
        return f"{facility} {_NUMBERS.sub('#', str(text))}"
    return _NUMBERS.sub("#", record.getMessage())


_THROTTLE = KafkaLogThrottle()


def kafka_logger() -> logging.Logger:
    """The ``streamer.kafka`` logger, with the throttle on it (installed once)."""
    logger = logging.getLogger(KAFKA_LOGGER_NAME)
    if _THROTTLE not in logger.filters:
        logger.addFilter(_THROTTLE)
    return logger
