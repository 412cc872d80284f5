"""Resolution records: how a dead letter is marked as handled by ``streamer redrive``.

A redrive does not commit a group over the dead-letter topic: committing past records that a
run skipped for its filters would hide them from every later run. Instead, once a dead letter's
fate under the current configuration is settled (Ortto accepted it, or it failed again and its
new dead letter is on the broker, or no subscription wants it any more), the redrive appends a
*resolution record* to the dead-letter topic itself:

- key: ``resolved/<topic>/<partition>/<offset>/<subscription>/<redrives>`` (UTF-8);
- value: the same identity as JSON, with ``outcome`` and ``resolved_at``;
- headers: ``streamer.resolution`` (the outcome: ``redriven``), ``streamer.source.topic``,
  ``.partition``, ``.offset``, ``streamer.subscription`` (absent for a decode-stage letter) and
  ``streamer.redrives``. It has no ``streamer.stage``: readers of dead letters skip it
  (:func:`~streamer.deadletter.read_dead_letter` raises ``ValueError``).

A dead letter's *identity* is its source coordinates, the subscription it names and its redrive
count. Two letters of the same message and subscription (the live group redid a message after a
crash) are the same letter: resolving one resolves both. A letter written by a redrive has a
count one higher, so it is a new letter, unresolved until a later redrive handles it. A
resolution always follows the letter it resolves, so a reader that starts at a time or an
offset sees the resolution of every letter it sees. ``status`` counts unresolved letters so.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

import orjson

__all__ = [
    "DeadLetterIdentity",
    "LetterScan",
    "identity_of",
    "resolution_record",
    "resolved_identity",
]

RESOLUTION_HEADER = "streamer.resolution"


class DeadLetterIdentity(NamedTuple):
    topic: str
    partition: int
    offset: int
    subscription: str
    """Empty for a decode-stage letter (no subscription mapped it)."""
    redrives: int


def identity_of(record: dict[str, Any]) -> DeadLetterIdentity:
    """The identity of a dead letter read by :func:`~streamer.deadletter.read_dead_letter`."""
    return DeadLetterIdentity(
        record["source_topic"], record["source_partition"], record["source_offset"],
        record["subscription"] or "", record["redrives"],
    )


def resolved_identity(
    headers: Sequence[tuple[str, bytes | None]] | None,
) -> DeadLetterIdentity | None:
    """The identity a resolution record resolves; None when the record is not one."""
    found: dict[str, str] = {}
    for name, raw in headers or ():
        if name.startswith("streamer."):
            found[name] = (raw or b"").decode("utf-8", "replace")
    if RESOLUTION_HEADER not in found:
        return None
    return DeadLetterIdentity(
        found.get("streamer.source.topic", ""),
        int(found.get("streamer.source.partition", "-1")),
        int(found.get("streamer.source.offset", "-1")),
        found.get("streamer.subscription", ""),
        int(found.get("streamer.redrives", "0")),
    )


def resolution_record(
    identity: DeadLetterIdentity, outcome: str, *, now: float | None = None
) -> tuple[bytes, bytes, list[tuple[str, str | bytes | None]]]:
    """``(key, value, headers)`` of the record resolving ``identity``."""
    topic, partition, offset, subscription, redrives = identity
    key = f"resolved/{topic}/{partition}/{offset}/{subscription}/{redrives}".encode()
    at = datetime.fromtimestamp(
        datetime.now(UTC).timestamp() if now is None else now, UTC
    ).isoformat(timespec="milliseconds")
    value = orjson.dumps({**identity._asdict(), "outcome": outcome, "resolved_at": at})
    headers: list[tuple[str, str | bytes | None]] = [
        (RESOLUTION_HEADER, outcome.encode()),
        ("streamer.source.topic", topic.encode()),
        ("streamer.source.partition", str(partition).encode()),
        ("streamer.source.offset", str(offset).encode()),
        ("streamer.redrives", str(redrives).encode()),
    ]
    if subscription:
        headers.append(("streamer.subscription", subscription.encode()))
    return key, value, headers


@dataclass(slots=True)
class LetterScan:
    """What a read of the dead-letter topic saw besides its letters (see :meth:`letters`)."""

    read: int = 0
    """Records read, letters, resolutions and foreign records alike."""
    resolved: set[DeadLetterIdentity] = field(default_factory=set)
    """The identities the resolution records read so far mark as handled."""

    def letters(self, messages: Iterable[Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
        """``(message, record)`` for each dead letter of ``messages`` (consumed records);
        resolution records go to :attr:`resolved`, records that are neither are skipped.
        A letter is resolved when its identity is in :attr:`resolved` at the end of the read
        (a resolution always follows its letter)."""
        from ._read import read_dead_letter

        for message in messages:
            self.read += 1
            # Consumed headers are (name, bytes) pairs; the client's type also allows a dict.
            headers: Sequence[tuple[str, bytes | None]] = cast(Any, message.headers()) or []
            done = resolved_identity(headers)
            if done is not None:
                self.resolved.add(done)
                continue
            try:
                record = read_dead_letter(message.key(), None, headers)
            except ValueError:
                continue  # not a dead letter
            yield message, record
