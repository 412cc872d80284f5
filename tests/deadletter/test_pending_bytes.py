"""A dead-letter record counts its bytes until the broker acknowledged it (back-pressure)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from streamer.deadletter import DeadLetterWriter, Rejection
from streamer.offsets import OffsetTracker
from streamer.testing import FakeMessage, KafkaBroker

pytestmark = pytest.mark.kafka


def test_pending_bytes_cover_the_record_until_its_report(
    kafka_broker: KafkaBroker, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=1)
    writer = DeadLetterWriter(kafka_broker.bootstrap_servers, topic)
    try:
        state = OffsetTracker().partition("events", 0)
        value = b'{"type": "track", "event": "' + b"x" * 2000 + b'"'
        message = FakeMessage("events", 0, 7, value, key=b"user-1",
                              headers=[("trace", b"abc")])
        ticket = state.dispatch(7, 1, 0.0, message)
        writer.write(message, Rejection("decode", "invalid_json", "not valid JSON", 400), ticket)
        assert writer.held_items == 1
        # Value, key, every header (the source's and streamer's), and the record's overhead.
        assert writer.held_bytes > len(value) + len(b"user-1") + len("trace") + 3
        assert writer.flush(30.0) == 0
        writer.poll()
        assert (writer.held_items, writer.held_bytes) == (0, 0)
        assert state.pending == 0 and state.pending_bytes == 0
    finally:
        writer.close(1.0)
