"""What a redrive plugs into the pipeline: a source of dead letters, and a dead-letter writer.

A dead letter goes through the pipeline as a :class:`LetterMessage`: tracked at its place in
the dead-letter topic (so the pipeline's offset bookkeeping sees increasing offsets and the
checkpoint says which letters are done), decoded from the original value, and dead-lettered
again, if it fails again, as the *original* message: its source topic, partition, offset,
timestamp, key and headers (:class:`RedriveWriter` writes it with ``streamer.redrives`` one
higher and the first failure time of the letter it came from).

:class:`LetterSource` reads the dead-letter partitions from the first letter to redrive to the
last (a :class:`RangeSource`), hands over only the planned letters, and, when the pipeline's
checkpoint commits an offset of the dead-letter topic (every letter below it is settled: Ortto
accepted it, or its new letter is on the broker), writes a resolution record for each of those
letters and waits for the broker's acknowledgement: that is the redrive's progress, instead of
a consumer group.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import deque
from collections.abc import Sequence
from typing import Any

from confluent_kafka import Message, Producer

from .._exceptions import KafkaClientError
from ..config import KafkaConfig
from ..deadletter import DeadLetterWriter, Rejection, resolution_record
from ..offsets import CommitResult, Ticket, TopicPartitionKey
from ..source import PartitionRange, RangeSource, RebalanceHandler
from ._redrive_plan import Letter

__all__ = ["LetterMessage", "LetterSource", "RedriveWriter"]

log = logging.getLogger("streamer.redrive")
_KAFKA_LOG = logging.getLogger("streamer.kafka")


class _Original:
    """The source message a letter was made from, as the dead-letter writer reads it."""

    __slots__ = ("_letter", "_message")

    def __init__(self, message: Any, letter: Letter) -> None:
        self._message = message
        self._letter = letter

    def topic(self) -> str:
        return self._letter.identity.topic

    def partition(self) -> int:
        return self._letter.identity.partition

    def offset(self) -> int:
        return self._letter.identity.offset

    def timestamp(self) -> tuple[int, int]:
        stamp = self._letter.source_timestamp_ms
        return (1, stamp) if stamp is not None else (0, -1)

    def key(self) -> bytes | None:
        key: bytes | None = self._message.key()
        return key

    def value(self) -> bytes | None:
        value: bytes | None = self._message.value()
        return value

    def headers(self) -> list[tuple[str, bytes | None]]:
        return list(self._letter.source_headers)


class LetterMessage(_Original):
    """A letter as the pipeline sees it: at its place in the dead-letter topic."""

    __slots__ = ("letter", "original")

    def __init__(self, message: Any, letter: Letter) -> None:
        super().__init__(message, letter)
        self.letter = letter
        self.original = _Original(message, letter)

    def error(self) -> None:
        return None

    def topic(self) -> str:
        topic: str = self._message.topic()
        return topic

    def partition(self) -> int:
        return self._letter.partition

    def offset(self) -> int:
        return self._letter.offset


class RedriveWriter(DeadLetterWriter):
    """Writes a letter that failed again as its original message, one redrive higher."""

    def write(
        self, message: Any, rejection: Rejection, ticket: Ticket | None, *, log_detail: str = ""
    ) -> None:
        if isinstance(message, LetterMessage):
            letter = message.letter
            rejection = dataclasses.replace(
                rejection, redrives=letter.identity.redrives + 1,
                first_failure=letter.first_failure_s,
            )
            message = message.original
        super().write(message, rejection, ticket, log_detail=log_detail)


class LetterSource(RangeSource):
    def __init__(
        self,
        config: KafkaConfig,
        handler: RebalanceHandler,
        letters: Sequence[Letter],
        *,
        rate_per_s: float | None = None,
    ) -> None:
        topic = config.dead_letter_topic
        spans: dict[int, tuple[int, int]] = {}
        for letter in letters:
            low, high = spans.get(letter.partition, (letter.offset, letter.offset))
            spans[letter.partition] = (min(low, letter.offset), max(high, letter.offset))
        ranges = [PartitionRange(topic, p, low, high + 1) for p, (low, high) in spans.items()]
        super().__init__(config, handler, ranges, rate_per_s=rate_per_s)
        self._wanted = {(letter.partition, letter.offset): letter for letter in letters}
        self._dispatched: dict[int, deque[Letter]] = {p: deque() for p in spans}
        self._producer = Producer({
            "bootstrap.servers": config.bootstrap_servers, "enable.idempotence": True,
            "acks": "all", "linger.ms": 5, "logger": _KAFKA_LOG, **config.producer,
        })
        self.resolved = 0
        """Resolution records acknowledged by the broker."""

    async def poll(self, wait_s: float | None = None) -> list[Message]:
        out: list[Any] = []
        wanted = self._wanted
        for message in await super().poll(wait_s):
            if message.error() is not None:
                out.append(message)
                continue
            letter = wanted.get((message.partition() or 0, message.offset() or 0))
            if letter is not None:
                self._dispatched[letter.partition].append(letter)
                out.append(LetterMessage(message, letter))
        return out

    async def commit(
        self, offsets: dict[TopicPartitionKey, int], asynchronous: bool
    ) -> CommitResult:
        """The progress of a redrive is its resolution records, acknowledged before this
        returns (a failure raises: the letters would be sent again by the next run)."""
        if offsets:
            await self._run(self._resolve, offsets)
        return CommitResult(confirmed=dict(offsets), synchronous=True)

    def _resolve(self, offsets: dict[TopicPartitionKey, int]) -> None:
        topic = self._config.dead_letter_topic
        written = 0
        failures: list[str] = []

        def delivered(err: Any, _msg: Any) -> None:
            if err is not None:
                failures.append(str(err))

        for (_, partition), offset in offsets.items():
            queue = self._dispatched.get(partition)
            while queue and queue[0].offset < offset:
                key, value, headers = resolution_record(queue.popleft().identity, "redriven")
                self._producer.produce(topic, value, key=key, headers=headers,
                                       on_delivery=delivered)
                written += 1
        if written:
            left = self._producer.flush(30.0)
            if left or failures:
                raise KafkaClientError(
                    f"{left + len(failures)} resolution record(s) were not written to {topic} "
                    f"({failures[0] if failures else 'no acknowledgement'}): the letters they "
                    "resolve will be sent again by the next redrive")
            self.resolved += written
