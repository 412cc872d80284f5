"""The registry gate: each schema fetched once, held partitions keep their order, others flow."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import fastavro
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from streamer import DecodeError
from streamer.offsets import message_bytes
from streamer.source import registry_client
from streamer.source._registry import RegistryDecoding
from streamer.testing import FakeMessage

SCHEMA = {"type": "record", "name": "Gate", "fields": [
    {"name": "type", "type": "string"}, {"name": "n", "type": "long"}]}


@pytest.fixture
def client(registry_url: str) -> Iterator[SchemaRegistryClient]:
    with SchemaRegistryClient({"url": registry_url}) as registry:
        yield registry


def _wire(schema_id: int, n: int) -> bytes:
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(SCHEMA), {"type": "track", "n": n})
    return b"\x00" + schema_id.to_bytes(4, "big") + body.getvalue()


async def _until_released(gate: RegistryDecoding) -> list[Any]:
    out: list[Any] = []
    deadline = time.monotonic() + 30
    while gate.held and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
        out += gate.admit([])
    return out


def test_held_partitions_keep_their_order_and_others_flow(
    client: SchemaRegistryClient, registry_url: str
) -> None:
    schema_id = client.register_schema("gate-value", Schema(json.dumps(SCHEMA), "AVRO"))

    async def scenario() -> None:
        gate = RegistryDecoding(SchemaRegistryClient({"url": registry_url}))
        try:
            batch = [FakeMessage("t", 0, 0, b'{"type": "track"}'),   # JSON under avro: decode()
                     FakeMessage("t", 0, 1, _wire(schema_id, 1)),     # needs the schema: held
                     FakeMessage("t", 1, 0, b"\x02"),                 # not wire format: flows
                     FakeMessage("t", 0, 2, b"\x02")]                 # behind offset 1: held
            first = gate.admit(batch)
            assert [(m.partition(), m.offset()) for m in first] == [(0, 0), (1, 0)]
            assert gate.held == 2
            assert gate.held_bytes == message_bytes(batch[1]) + message_bytes(batch[3])
            more = gate.admit([FakeMessage("t", 0, 3, _wire(schema_id, 3)),
                               FakeMessage("t", 1, 1, b"\x02")])
            assert [(m.partition(), m.offset()) for m in more] == [(1, 1)]
            released = await _until_released(gate)
            assert [(m.partition(), m.offset()) for m in released] == [(0, 1), (0, 2), (0, 3)]
            assert gate.held_bytes == 0
            assert gate.decode(released[0].value()) == {"type": "track", "n": 1}
            with pytest.raises(DecodeError) as caught:
                gate.decode(released[1].value())
            assert caught.value.reason == "invalid_avro"
            # Known now: no more holding, no second fetch.
            assert gate.admit([FakeMessage("t", 2, 0, _wire(schema_id, 9))])[0].offset() == 0
            assert gate.fetched == 1 and gate.problem is None
        finally:
            gate.close()

    asyncio.run(scenario())


def test_an_unknown_id_is_fetched_once_and_dead_letters_its_messages(registry_url: str) -> None:
    async def scenario() -> None:
        gate = RegistryDecoding(SchemaRegistryClient({"url": registry_url}))
        try:
            values = [_wire(2**31 - 7, n) for n in range(3)]
            assert gate.admit([FakeMessage("t", 0, n, v) for n, v in enumerate(values)]) == []
            released = await _until_released(gate)
            assert len(released) == 3 and gate.fetched == 1
            for message in released:
                with pytest.raises(DecodeError) as caught:
                    gate.decode(message.value())
                assert caught.value.reason == "unknown_schema"
        finally:
            gate.close()

    asyncio.run(scenario())


def test_revoked_partitions_lose_their_held_messages(registry_url: str) -> None:
    async def scenario() -> None:
        gate = RegistryDecoding(SchemaRegistryClient({"url": registry_url}))
        try:
            kept = FakeMessage("t", 1, 0, _wire(2**31 - 8, 0), key=b"contact-1")
            gate.admit([FakeMessage("t", 0, 0, _wire(2**31 - 8, 0)), kept])
            assert gate.held == 2
            gate.discard([("t", 0)])
            assert gate.held == 1
            assert gate.held_bytes == message_bytes(kept)
            released = await _until_released(gate)
            assert [(m.partition(), m.offset()) for m in released] == [(1, 0)]
        finally:
            gate.close()

    asyncio.run(scenario())


def test_a_registry_that_refuses_connections_holds_and_says_why() -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"

    async def scenario() -> None:
        gate = RegistryDecoding(registry_client({"url": url}), backoff_initial_s=0.01)
        try:
            assert gate.admit([FakeMessage("t", 0, 0, _wire(1, 0)),
                               FakeMessage("t", 1, 0, b'{"type": "track"}')])[0].partition() == 1
            deadline = time.monotonic() + 30
            while gate.problem is None and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
                assert gate.admit([]) == []
            assert gate.problem is not None and "schema registry unreachable" in gate.problem
            assert gate.held == 1 and gate.fetched == 0
        finally:
            gate.close()

    asyncio.run(scenario())
