"""Secrets never reach a log line, even with librdkafka's every debug context on.

The SASL password is handed to the real Kafka client (``debug: all``, which dumps the client's
configuration and every protocol step) of streamer's consumer, pointed at a port where nothing
listens, so that the client logs its configuration, its connection attempts and their failures;
the records are formatted by streamer's JSON formatter, as ``streamer run`` would print them.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Iterator

import pytest

from streamer.config import KafkaConfig
from streamer.observability import JsonFormatter
from streamer.source import KafkaSource

_PASSWORD = "s3cret-SASL-password-4242"


class _NoRebalance:
    async def assigned(self, keys: list[tuple[str, int]],
                       committed: dict[tuple[str, int], int]) -> None:
        raise AssertionError("nothing can be assigned without a broker")

    async def revoked(self, keys: list[tuple[str, int]], *,
                      lost: bool) -> dict[tuple[str, int], int]:
        return {}


@pytest.fixture
def kafka_lines() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("streamer.kafka")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield out
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_librdkafka_debug_output_never_shows_the_sasl_password(kafka_lines: io.StringIO) -> None:
    config = KafkaConfig(
        bootstrap_servers="127.0.0.1:9", topics=["events"], dead_letter_topic="dead",
        consumer={"debug": "all", "security.protocol": "SASL_PLAINTEXT",
                  "sasl.mechanisms": "PLAIN", "sasl.username": "streamer",
                  "sasl.password": _PASSWORD, "reconnect.backoff.ms": 10},
    )

    async def scenario() -> None:
        source = KafkaSource(config, _NoRebalance())
        await source.start()
        try:
            # Wait on progress: the configuration dump and a failed connection were logged.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not (
                "sasl.password = " in kafka_lines.getvalue()
                and "Connection refused" in kafka_lines.getvalue()
            ):
                await source.poll()
        finally:
            await source.close()

    asyncio.run(scenario())
    text = kafka_lines.getvalue()
    # The configuration dump names the property, and librdkafka redacts its value.
    assert "sasl.password = [redacted]" in text and "Connection refused" in text, text[-2000:]
    assert text.count("\n") > 20  # librdkafka's debug output did flow through
    assert _PASSWORD not in text
