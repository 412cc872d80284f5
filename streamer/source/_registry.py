"""Avro in the Confluent wire format: writer's schemas from a schema registry, and the gate.

The framing (magic byte, schema id or guid) is read by confluent-kafka's own
``prefix_schema_id_deserializer``; each schema is fetched once through its
``SchemaRegistryClient`` and parsed once by fastavro (``_avro.py`` reads the records).

Lifecycle of a schema id, all state touched by the event loop only:

1. :meth:`RegistryDecoding.admit` (called with every poll's messages, before the Dispatcher)
   sees a value whose schema id is not cached: it starts a fetch (a task awaiting the client
   on a worker thread, so the loop never blocks) and holds that message, and every later
   message of its partition, in order; other partitions flow.
2. The fetch ends in one of three ways:
   - the schema: cached for the life of the process (ids are immutable);
   - 404 or a schema that is not usable Avro: cached as unknown for :data:`_UNKNOWN_TTL_S`
     (a registry replica may lag), its messages are dead-lettered (``unknown_schema``);
   - no answer (connection refused, timeout, 5xx, refused credentials): not the event's fault.
     :attr:`problem` says so (``/readyz`` turns unready), the fetch is retried with backoff, the
     messages stay held: nothing is decoded, dead-lettered or committed until it answers.
3. The next ``admit`` releases the held messages whose schemas are now known, ahead of the
   new ones; :meth:`decode` (the Dispatcher's decoder) then finds every schema it needs cached.
4. On revocation :meth:`discard` drops the held messages of the revoked partitions (never
   dispatched, so never committed: the next owner reads them); :meth:`close` stops the fetches.

``auto`` (``kafka.format: auto``): a value whose first byte is 0 is the wire format, one whose
first non-blank byte is ``{`` is JSON, anything else is ``unknown_format``.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

from confluent_kafka.schema_registry import (
    SchemaReference,
    SchemaRegistryClient,
    SchemaRegistryError,
    prefix_schema_id_deserializer,
)
from confluent_kafka.schema_registry.common.serde import SchemaId

from .._exceptions import DecodeError
from ..offsets import message_bytes
from ._avro import AvroReader, parse_writer_schema
from ._decode import decode_json

__all__ = ["RegistryDecoding"]

log = logging.getLogger("streamer.source.registry")

SchemaKey = int | UUID
TopicPartitionKey = tuple[str, int]

_UNKNOWN_TTL_S = 60.0
_ID_HEADER = 5
"""Magic byte 0 and a 4-byte schema id: cached readers are found by these bytes, which the
ecosystem's parser read the first time they were seen."""
_BLANK = b" \t\r\n"


class _Unknown:
    __slots__ = ("expires", "message")

    def __init__(self, message: str, expires: float) -> None:
        self.message = message
        self.expires = expires


_Entry = AvroReader | _Unknown


class RegistryDecoding:
    def __init__(
        self,
        client: SchemaRegistryClient,
        *,
        auto: bool = False,
        backoff_initial_s: float = 0.2,
        backoff_max_s: float = 10.0,
        clock: Any = time.monotonic,
    ) -> None:
        self._client = client
        self._auto = auto
        self._backoff = (backoff_initial_s, backoff_max_s)
        self._clock = clock
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="streamer-registry")
        self._entries: dict[SchemaKey, _Entry] = {}
        self._by_header: dict[bytes, _Entry] = {}
        self._fetches: dict[SchemaKey, asyncio.Task[None]] = {}
        self._failing: dict[SchemaKey, str] = {}
        self._held: dict[TopicPartitionKey, deque[Any]] = {}
        self.held = 0
        """Messages waiting for their schema (counted by the pipeline's back-pressure)."""
        self.held_bytes = 0
        """What those messages hold (``offsets.message_bytes``), for the same."""
        self.fetched = 0

    @property
    def problem(self) -> str | None:
        """Why delivery waits on the registry, or None (read by the readiness check)."""
        if not self._failing:
            return None
        return f"schema registry unreachable: {next(iter(self._failing.values()))}"

    # -- the decoder (Dispatcher) ----------------------------------------------------------------

    def decode(self, value: bytes | None) -> dict[str, Any]:
        if value is None:
            raise DecodeError("message has no value (tombstone)", reason="empty")
        if self._auto and value[:1] != b"\x00":
            if value[:1] == b"{" or value.lstrip(_BLANK)[:1] == b"{":
                return decode_json(value)
            raise DecodeError(
                "neither JSON (first non-blank byte `{`) nor the Confluent wire format "
                "(first byte 0)", reason="unknown_format")
        entry = self._by_header.get(value[:_ID_HEADER])
        if entry is not None:
            buffer = io.BytesIO(value)
            buffer.seek(_ID_HEADER)
        else:
            key, buffer = _frame(value)
            found = self._entries.get(key)
            if found is None:
                raise RuntimeError(f"schema {key} was not fetched: admit() the messages first")
            entry = found
        if type(entry) is AvroReader:
            return entry.read(buffer, len(value))
        assert isinstance(entry, _Unknown)
        raise DecodeError(entry.message, reason="unknown_schema")

    # -- the gate (before the Dispatcher) --------------------------------------------------------

    def admit(self, messages: list[Any]) -> list[Any]:
        """The messages that can be decoded now, in order; the others are held per partition."""
        held = self._held
        if not held and not messages:
            return messages
        ready: list[Any] = []
        if held:
            self._release(ready)
        for message in messages:
            if held:
                queue = held.get((message.topic(), message.partition()))
                if queue is not None:
                    queue.append(message)
                    self.held += 1
                    self.held_bytes += message_bytes(message)
                    continue
            if message.error() is None and self._must_wait(message.value()):
                held[(message.topic(), message.partition())] = deque((message,))
                self.held += 1
                self.held_bytes += message_bytes(message)
                continue
            ready.append(message)
        return ready

    def discard(self, keys: Iterable[TopicPartitionKey]) -> None:
        """Forget the held messages of revoked partitions."""
        for key in keys:
            queue = self._held.pop(key, None)
            if queue is not None:
                self.held -= len(queue)
                self.held_bytes -= sum(message_bytes(m) for m in queue)

    def close(self) -> None:
        for task in self._fetches.values():
            task.cancel()
        self._fetches.clear()
        self._thread.shutdown(wait=False, cancel_futures=True)
        self._client.close()

    def _release(self, ready: list[Any]) -> None:
        held = self._held
        for key in list(held):
            queue = held[key]
            while queue and (queue[0].error() is not None or not self._must_wait(queue[0].value())):
                message = queue.popleft()
                ready.append(message)
                self.held -= 1
                self.held_bytes -= message_bytes(message)
            if not queue:
                del held[key]

    def _must_wait(self, value: bytes | None) -> bool:
        """Whether this value needs a schema not cached yet (and start fetching it)."""
        if not value or value[0] > 1 or (self._auto and value[0] != 0):
            return False  # not the wire format: decode() says why
        entry = self._by_header.get(value[:_ID_HEADER])
        if entry is None:
            try:
                key, _ = _frame(value)
            except DecodeError:
                return False
            entry = self._entries.get(key)
            if entry is None or (type(entry) is _Unknown and entry.expires <= self._clock()):
                self._fetch(key)
                return True
            if type(key) is int:
                self._by_header[value[:_ID_HEADER]] = entry
        elif type(entry) is _Unknown and entry.expires <= self._clock():
            del self._by_header[value[:_ID_HEADER]]
            return self._must_wait(value)
        return False

    # -- fetching (tasks on the loop, the client on the worker thread) ----------------------------

    def _fetch(self, key: SchemaKey) -> None:
        if key not in self._fetches:
            self._entries.pop(key, None)
            task = asyncio.get_running_loop().create_task(self._fetch_until_known(key))
            self._fetches[key] = task

    async def _fetch_until_known(self, key: SchemaKey) -> None:
        loop = asyncio.get_running_loop()
        wait, most = self._backoff
        while True:
            try:
                entry = await loop.run_in_executor(self._thread, self._lookup, key)
                break
            except Exception as exc:  # no answer we can use: the registry's fault, not the event's
                cause = f"{type(exc).__name__}: {exc}"[:300]
                if not self._failing:
                    log.warning("schema registry unreachable (%s): delivery of the partitions "
                                "that need schema %s waits, retrying", cause, key)
                self._failing[key] = cause
                await asyncio.sleep(wait)
                wait = min(wait * 2, most)
        if self._failing.pop(key, None) is not None and not self._failing:
            log.info("schema registry answers again")
        self._entries[key] = entry
        self.fetched += 1
        del self._fetches[key]

    def _lookup(self, key: SchemaKey) -> _Entry:
        named: dict[str, Any] = {}
        try:
            if isinstance(key, int):
                schema = self._client.get_schema(key)
            else:
                schema = self._client.get_schema_by_guid(str(key))
            if (schema.schema_type or "AVRO") != "AVRO":
                return self._unknown(f"schema {key} is {schema.schema_type}, not Avro")
            for reference in schema.references or []:
                self._load_reference(reference, named)
            parsed = parse_writer_schema(schema.schema_str or "", named)
        except SchemaRegistryError as exc:
            if exc.http_status_code == 404:
                return self._unknown(f"schema {key} (or one it references) is unknown to the "
                                     "registry (404)")
            raise
        except ValueError as exc:
            return self._unknown(f"schema {key} is not usable Avro: {exc}"[:500])
        log.info("schema %s fetched from the registry", key)
        return AvroReader(parsed)

    def _load_reference(self, reference: SchemaReference, named: dict[str, Any]) -> None:
        if reference.subject is None or reference.version is None:
            raise ValueError(f"reference {reference.name} names no subject and version")
        registered = self._client.get_version(reference.subject, reference.version)
        for inner in registered.schema.references or []:
            self._load_reference(inner, named)
        parse_writer_schema(registered.schema.schema_str or "", named)  # adds its named types

    def _unknown(self, message: str) -> _Unknown:
        return _Unknown(message, self._clock() + _UNKNOWN_TTL_S)


def _frame(value: bytes) -> tuple[SchemaKey, io.BytesIO]:
    """The schema id (or guid) of a wire-format value and the buffer past the header."""
    schema_id = SchemaId("AVRO")
    try:
        buffer = prefix_schema_id_deserializer(value, None, schema_id)
    except Exception:  # SerializationError (magic byte), struct.error (too short)
        raise DecodeError(
            "not in the Confluent wire format (magic byte 0, then the schema id)",
            reason="invalid_avro") from None
    key: SchemaKey | None = schema_id.id if schema_id.id is not None else schema_id.guid
    if key is None:
        raise DecodeError("the wire format carries no schema id", reason="invalid_avro")
    return key, buffer
