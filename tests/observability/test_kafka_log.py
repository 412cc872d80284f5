"""librdkafka's repeated complaints are throttled: one line of a kind per window, with a count."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import pytest

from streamer.deadletter import DeadLetterWriter, Rejection
from streamer.observability import KafkaLogThrottle, kafka_logger
from streamer.testing import FakeClock, FakeMessage

_REFUSED = ("[thrd:127.0.0.1:{port}/bootstrap]: 127.0.0.1:{port}/bootstrap: Connect to "
            "ipv4#127.0.0.1:{port} failed: Connection refused (after {ms}ms in state CONNECT)")


def _record(text: str, facility: str = "FAIL", level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord("streamer.kafka", level, __file__, 1, "%s [%s] %s",
                             (facility, "rdkafka#consumer-1", text), None)


def test_numbers_do_not_make_a_new_kind_and_the_next_line_has_the_count() -> None:
    clock = FakeClock()
    throttle = KafkaLogThrottle(10.0, clock=clock)
    passed = []
    for step in range(30):  # 30 complaints over 15 s, from ever-changing ports and timings
        record = _record(_REFUSED.format(port=40_000 + step, ms=step % 3))
        if throttle.filter(record):
            passed.append(record.getMessage())
        clock.advance(0.5)
    assert len(passed) == 2
    assert "like it" not in passed[0]
    assert passed[1].endswith("(+19 like it in the last 10s)")


def test_another_kind_has_its_first_line_at_once() -> None:
    clock = FakeClock()
    throttle = KafkaLogThrottle(10.0, clock=clock)
    assert throttle.filter(_record(_REFUSED.format(port=1, ms=0)))
    assert not throttle.filter(_record(_REFUSED.format(port=2, ms=0)))
    assert throttle.filter(_record("1/1 brokers are down", facility="ERROR"))
    assert throttle.filter(_record(_REFUSED.format(port=1, ms=0), level=logging.WARNING))


def _closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def throttled() -> Iterator[tuple[KafkaLogThrottle, _Lines, list[int]]]:
    """The ``streamer.kafka`` logger with a throttle of a short window; a count of every record
    the client forwarded (a filter before the throttle) and a handler of the lines let through."""
    logger = kafka_logger()
    installed = list(logger.filters)
    seen = [0, 0]  # every record, the refusals among them

    def count(record: logging.LogRecord) -> bool:
        seen[0] += 1
        seen[1] += "Connection refused" in record.getMessage()
        return True

    throttle = KafkaLogThrottle(1.0)
    for existing in installed:
        logger.removeFilter(existing)
    logger.addFilter(count)
    logger.addFilter(throttle)
    lines = _Lines()
    logger.addHandler(lines)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        yield throttle, lines, seen
    finally:
        logger.setLevel(level)
        logger.removeHandler(lines)
        logger.removeFilter(throttle)
        logger.removeFilter(count)
        for existing in installed:
            logger.addFilter(existing)


def test_an_unreachable_broker_is_a_few_lines_with_counts(
    throttled: tuple[KafkaLogThrottle, _Lines, list[int]],
) -> None:
    throttle, lines, seen = throttled
    port = _closed_loopback_port()
    writer = DeadLetterWriter(
        f"127.0.0.1:{port}", "events.dead-letter",
        extra={"reconnect.backoff.ms": 10, "reconnect.backoff.max.ms": 20,
               "message.timeout.ms": 60_000},
    )
    writer.write(FakeMessage("events", 0, 7, b"{"), Rejection("decode", "invalid_json", "x", 400),
                 None)
    started = time.monotonic()
    deadline = started + 60
    # Progress, not time: wait until the client has complained many times over and a line
    # carrying a count of held-back complaints came through.
    while time.monotonic() < deadline and not (
        seen[0] >= 30 and any("like it in the last" in m for m in lines.messages)
    ):
        writer.poll()
        time.sleep(0.01)
    elapsed = time.monotonic() - started
    assert seen[0] >= 30, seen[0]
    assert any("like it in the last" in m for m in lines.messages), lines.messages
    refused = [m for m in lines.messages if "Connection refused" in m]
    # One refusal line per window at most (the first at once), however many reconnects.
    windows = elapsed / throttle.window_s
    assert 1 <= len(refused) <= windows + 1, (len(refused), elapsed, refused)
    # Every line stands for itself and the complaints it says were held back: none invented,
    # and fewer lines than complaints.
    held = sum(int(m.rsplit("(+", 1)[1].split()[0]) for m in refused if "(+" in m)
    assert len(refused) + held <= seen[1]
    assert len(refused) < seen[1]
    del writer


def test_two_clients_saying_the_same_are_one_kind() -> None:
    clock = FakeClock()
    throttle = KafkaLogThrottle(10.0, clock=clock)
    consumer = _record(_REFUSED.format(port=9092, ms=0))
    producer = logging.LogRecord("streamer.kafka", logging.ERROR, __file__, 1, "%s [%s] %s",
                                 ("FAIL", "rdkafka#producer-2", _REFUSED.format(port=9092, ms=3)),
                                 None)
    assert throttle.filter(consumer)
    assert not throttle.filter(producer)
