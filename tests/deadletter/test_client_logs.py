"""librdkafka's own messages arrive as log records of ``streamer.kafka``, not as raw stderr lines.

SREs read one log stream in one format; a client that writes ``%3|1795...|FAIL|rdkafka#...``
lines of its own on stderr bypasses the process's logging (level, format, handlers).
"""

from __future__ import annotations

import logging
import socket
import time

import pytest

from streamer.deadletter import DeadLetterWriter, Rejection
from streamer.testing import FakeMessage


def _closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed


def test_client_complaints_are_log_records(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    port = _closed_loopback_port()
    writer = DeadLetterWriter(f"127.0.0.1:{port}", "events.dead-letter",
                              extra={"reconnect.backoff.ms": 50, "message.timeout.ms": 120_000})
    rejection = Rejection("decode", "invalid_json", "not valid JSON", 400)

    def records() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "streamer.kafka"]

    with caplog.at_level(logging.DEBUG, logger="streamer.kafka"):
        writer.write(FakeMessage("events", 0, 7, b"{"), rejection, None)
        # The client's complaints arrive while it is served: serve it until one names the port.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
            str(port) in r.getMessage() for r in records()
        ):
            assert writer.flush(0.1) == 1  # nobody acknowledges: the broker is not there
    records = records()
    assert any(str(port) in r.getMessage() for r in records), [r.getMessage() for r in records]
    assert "rdkafka" not in capfd.readouterr().err
