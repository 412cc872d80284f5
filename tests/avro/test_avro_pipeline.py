"""Avro input end to end: the real broker, a real schema registry (Apicurio), the sandbox.

Events are written by confluent-kafka's own ``AvroSerializer`` through the registry (the
Confluent wire format) or by fastavro with ``schemas/segment-event.avsc`` (schemaless), and must
reach the sandbox exactly as the same events written as JSON do.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from streamer.app import Pipeline, build_pipeline
from streamer.config import parse_config
from streamer.sandbox import SandboxServer, SandboxState
from streamer.testing import (
    SEGMENT_EVENT_SCHEMA,
    KafkaBroker,
    SchemaRegistry,
    sample_events,
    schemaless_avro,
    segment_avro_datum,
)

pytestmark = pytest.mark.kafka

_LIBRARY = {"type": "record", "name": "Library", "fields": [
    {"name": "name", "type": "string"}, {"name": "version", "type": "string"}]}
ORDER_SCHEMA: dict[str, Any] = {
    "type": "record", "name": "ShopEvent", "namespace": "test.avro", "fields": [
        {"name": "type", "type": {"type": "enum", "name": "Kind",
                                  "symbols": ["identify", "track"]}},
        {"name": "messageId", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "userId", "type": ["null", "string"], "default": None},
        {"name": "anonymousId", "type": ["null", "string"], "default": None},
        {"name": "event", "type": ["null", "string"], "default": None},
        {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "properties", "type": ["null", {
            "type": "record", "name": "Order", "fields": [
                {"name": "total", "type": {"type": "bytes", "logicalType": "decimal",
                                           "precision": 10, "scale": 2}},
                {"name": "quantity", "type": "long"},
                {"name": "placed_on", "type": {"type": "int", "logicalType": "date"}},
                {"name": "pickup", "type": {"type": "int", "logicalType": "time-millis"}},
                {"name": "shop_time", "type": {"type": "long",
                                               "logicalType": "local-timestamp-millis"}},
                {"name": "coupon", "type": ["null", "string"], "default": None},
                {"name": "status", "type": {"type": "enum", "name": "Status",
                                            "symbols": ["NEW", "PAID", "SHIPPED"]}},
                {"name": "items", "type": {"type": "array", "items": {
                    "type": "record", "name": "Item", "fields": [
                        {"name": "sku", "type": "string"}, {"name": "price", "type": "double"},
                        {"name": "gift", "type": ["null", "boolean"], "default": None}]}}},
                {"name": "labels", "type": {"type": "map", "values": ["null", "string"]}},
            ]}], "default": None},
        {"name": "traits", "type": ["null", {
            "type": "record", "name": "Traits", "fields": [
                {"name": "email", "type": "string"},
                {"name": "first_name", "type": ["null", "string"], "default": None},
                {"name": "logins", "type": "long"},
                {"name": "address", "type": {"type": "record", "name": "Address", "fields": [
                    {"name": "city", "type": "string"},
                    {"name": "country", "type": "string"}]}}]}], "default": None},
        {"name": "context", "type": {"type": "record", "name": "Context", "fields": [
            {"name": "ip", "type": "string"},
            {"name": "library", "type": _LIBRARY},
            {"name": "extra", "type": {"type": "map", "values": "string"}}]}},
    ]}
_BASE = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def _shop_events(n: int, seed: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``n`` events, each as (Avro datum, the same event as JSON), written independently."""
    pairs = []
    for i in range(n):
        stamp = _BASE + timedelta(milliseconds=37 * i + 1)
        message_id = uuid.UUID(int=seed * 100_000 + i)
        context = {"ip": f"203.0.113.{i % 250 + 1}",
                   "library": {"name": "analytics-java", "version": "3.5.1"},
                   "extra": {"seed": str(seed)}}
        millis = f"{stamp.microsecond // 1000:03d}"
        common = {"messageId": str(message_id), "userId": f"user-{i % 40}",
                  "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + millis + "Z",
                  "context": context}
        datum: dict[str, Any] = {"messageId": message_id, "userId": f"user-{i % 40}",
                                 "timestamp": stamp, "context": context}
        if i % 2:
            datum.update(type="track", event="Order Completed", properties={
                "total": Decimal(f"{i}.{i % 100:02d}"), "quantity": 2**40 + i,
                "placed_on": date(2026, 11, 1 + i % 28), "pickup": clock_time(9, i % 60, 5, 250000),
                "shop_time": datetime(2026, 11, 28, 21, 30, 0, 125000),
                "coupon": None if i % 3 else "WINTER",
                "status": "PAID",
                "items": [{"sku": f"SKU-{i}", "price": 19.5, "gift": None},
                          {"sku": "SKU-0", "price": 0.25, "gift": True}],
                "labels": {"channel": "web", "campaign": None}})
            properties: dict[str, Any] = {
                "total": float(f"{i}.{i % 100:02d}"), "quantity": 2**40 + i,
                "placed_on": f"2026-11-{1 + i % 28:02d}", "pickup": f"09:{i % 60:02d}:05.250",
                "shop_time": "2026-11-28T21:30:00.125", "status": "PAID",
                "items": [{"sku": f"SKU-{i}", "price": 19.5},
                          {"sku": "SKU-0", "price": 0.25, "gift": True}],
                "labels": {"channel": "web"}}
            if not i % 3:
                properties["coupon"] = "WINTER"
            pairs.append((datum, {**common, "type": "track", "event": "Order Completed",
                                  "properties": properties}))
        else:
            traits = {"email": f"user{i}@example.com", "logins": i,
                      "address": {"city": "Sydney", "country": "AU"}}
            datum.update(type="identify", traits={**traits, "first_name": None})
            pairs.append((datum, {**common, "type": "identify", "traits": traits}))
    return pairs


def _config(broker: KafkaBroker, topic: str, sandbox: SandboxServer, group: str,
            metrics: dict[str, Any] | None = None, **kafka: Any) -> Any:
    raw: dict[str, Any] = {
        "kafka": {"bootstrap_servers": broker.bootstrap_servers, "topics": [topic],
                  "group_id": group, "dead_letter_topic": f"{topic}.dlq", "start_from": "earliest",
                  "commit_interval_ms": 100, "session_timeout_ms": 6000, **kafka},
        "ortto": {"api_key": "pau-test-key", "endpoint": sandbox.url},
        "batching": {"max_items": 100, "linger_ms": 50},
        "delivery": {"backoff_initial_s": 0.02, "backoff_max_s": 0.2, "shutdown_grace_s": 2.0},
        "metrics": metrics or {"port": None},
    }
    return parse_config(raw, environ={})


async def _run_until(pipeline: Pipeline, done: Callable[[], bool | Awaitable[bool]],
                     timeout: float = 90) -> bool:
    task = asyncio.create_task(pipeline.run())
    deadline = time.monotonic() + timeout
    reached = False
    while time.monotonic() < deadline and not task.done():
        answer = done()
        if answer if isinstance(answer, bool) else await answer:
            reached = True
            break
        await asyncio.sleep(0.05)
    pipeline.stop()
    await task
    return reached


def _committed_all(pipeline: Pipeline, topic: str, ends: dict[int, int]) -> Callable[[], bool]:
    return lambda: all(pipeline.committed.get((topic, p), 0) >= e for p, e in ends.items())


async def _deliver(broker: KafkaBroker, topic: str, group: str,
                   **kafka: Any) -> tuple[SandboxState, Pipeline]:
    """Run a pipeline over ``topic`` until all of it is committed; what the sandbox received."""
    ends = broker.end_offsets(topic)
    sandbox = SandboxServer(SandboxState(ban=False))
    await sandbox.start()
    try:
        pipeline = await build_pipeline(_config(broker, topic, sandbox, group, **kafka))
        assert await _run_until(pipeline, _committed_all(pipeline, topic, ends))
        return sandbox.state, pipeline
    finally:
        await sandbox.stop()


def _received(state: SandboxState) -> tuple[list[Any], list[Any]]:
    def key(item: dict[str, Any]) -> bytes:
        return orjson.dumps(item, option=orjson.OPT_SORT_KEYS)

    return sorted(state.activities, key=key), sorted(state.contacts, key=key)


def _topic(broker: KafkaBroker, new_topic: Callable[..., str], partitions: int = 2) -> str:
    topic = new_topic(partitions=partitions)
    broker.create_topic(f"{topic}.dlq", 1)
    return topic


Writer = Callable[[dict[str, Any], str], bytes]


@pytest.fixture
def serializer(registry_url: str) -> Iterator[Callable[[dict[str, Any]], Writer]]:
    """confluent-kafka's AvroSerializer for a schema (registered on first use)."""
    clients: list[SchemaRegistryClient] = []

    def make(schema: dict[str, Any]) -> Writer:
        client = SchemaRegistryClient({"url": registry_url})
        clients.append(client)
        serialize = AvroSerializer(client, json.dumps(schema))

        def write(datum: dict[str, Any], topic: str) -> bytes:
            value: bytes = serialize(datum, SerializationContext(topic, MessageField.VALUE))
            return value

        return write

    yield make
    for client in clients:
        client.close()


def test_wire_format_events_reach_ortto_exactly_as_their_json_form(
    kafka_broker: KafkaBroker, new_topic: Callable[..., str], registry_url: str,
    serializer: Callable[[dict[str, Any]], Writer],
) -> None:
    pairs = _shop_events(120, seed=1)
    json_topic, avro_topic = _topic(kafka_broker, new_topic), _topic(kafka_broker, new_topic)
    write = serializer(ORDER_SCHEMA)
    kafka_broker.produce(json_topic, [orjson.dumps(j) for _, j in pairs])
    kafka_broker.produce(avro_topic, [write(d, avro_topic) for d, _ in pairs])
    registry = {"url": registry_url}

    async def scenario() -> tuple[Any, Any, Pipeline]:
        from_json, _ = await _deliver(kafka_broker, json_topic, "g-json")
        from_avro, pipeline = await _deliver(kafka_broker, avro_topic, "g-avro",
                                             format="avro", schema_registry=registry)
        return _received(from_json), _received(from_avro), pipeline

    from_json, from_avro, pipeline = asyncio.run(scenario())
    activities, contacts = from_json
    assert len(activities) == 60 and len(contacts) == 60
    assert from_avro == from_json
    assert pipeline.stats().dead_lettered == 0
    assert pipeline.decoding.fetched == 1  # each schema id fetched once


def test_schemaless_segment_events_reach_ortto_as_their_json_form(
    kafka_broker: KafkaBroker, new_topic: Callable[..., str]
) -> None:
    schema = json.loads(SEGMENT_EVENT_SCHEMA.read_text())
    events = list(sample_events(300, seed=23))
    json_topic, avro_topic = _topic(kafka_broker, new_topic), _topic(kafka_broker, new_topic)
    kafka_broker.produce(json_topic, [orjson.dumps(e) for e in events])
    kafka_broker.produce(avro_topic,
                         [schemaless_avro(segment_avro_datum(e, schema), schema) for e in events])

    async def scenario() -> tuple[Any, Any]:
        from_json, _ = await _deliver(kafka_broker, json_topic, "g-json")
        from_avro, _ = await _deliver(kafka_broker, avro_topic, "g-avro", format="avro",
                                      avro_schema=str(SEGMENT_EVENT_SCHEMA))
        return _received(from_json), _received(from_avro)

    from_json, from_avro = asyncio.run(scenario())
    assert from_json[0] and from_json[1]
    assert from_avro == from_json


def test_auto_reads_both_formats_and_dead_letters_each_bad_value_with_its_reason(
    kafka_broker: KafkaBroker, new_topic: Callable[..., str], registry_url: str,
    serializer: Callable[[dict[str, Any]], Writer],
) -> None:
    pairs = _shop_events(80, seed=2)
    topic, reference = _topic(kafka_broker, new_topic), _topic(kafka_broker, new_topic)
    write = serializer(ORDER_SCHEMA)
    good = write(pairs[1][0], topic)
    bad = {
        "unknown_schema": b"\x00\x7f\xff\xff\xf0" + good[5:],  # an id the registry never gave
        "invalid_avro": good[:5] + b"\xff\xff\xff",            # a known id, then no record
        "unknown_format": b"<event type='track'/>",
        "invalid_json": b'  {"type": "track", ',
    }
    mixed = [write(d, topic) if i % 2 else b"\n " + orjson.dumps(j)
             for i, (d, j) in enumerate(pairs)]
    for i, value in enumerate(bad.values()):
        mixed.insert(10 * i + 3, value)
    kafka_broker.produce(topic, mixed, partition=0)
    kafka_broker.produce(reference, [orjson.dumps(j) for _, j in pairs])

    async def scenario() -> tuple[Any, Any, Pipeline]:
        expected, _ = await _deliver(kafka_broker, reference, "g-json")
        got, pipeline = await _deliver(kafka_broker, topic, "g-auto", format="auto",
                                       schema_registry={"url": registry_url})
        return _received(expected), _received(got), pipeline

    expected, got, pipeline = asyncio.run(scenario())
    assert got == expected
    dead = kafka_broker.consume_all(f"{topic}.dlq", min_count=len(bad))
    assert {m.header("streamer.reason").decode(): m.value for m in dead} == bad  # type: ignore[union-attr]
    assert {m.header("streamer.stage") for m in dead} == {b"decode"}
    assert pipeline.stats().dead_lettered == len(bad)


def test_an_unreachable_registry_holds_its_partitions_until_it_answers(
    kafka_broker: KafkaBroker, new_topic: Callable[..., str],
    schema_registry: SchemaRegistry | str, serializer: Callable[[dict[str, Any]], Writer],
) -> None:
    if isinstance(schema_registry, str):
        pytest.skip("an external registry cannot be frozen")
    topic = _topic(kafka_broker, new_topic)
    pairs = _shop_events(60, seed=3)
    v1 = serializer(ORDER_SCHEMA)
    v2_schema = {**ORDER_SCHEMA, "fields": [
        *ORDER_SCHEMA["fields"], {"name": "channel", "type": ["null", "string"], "default": None}]}
    v2 = serializer(v2_schema)
    # Both versions registered now; the pipeline sees only v1 before the registry freezes.
    first = [v1(d, topic) for d, _ in pairs[:20]]
    later_v1 = [v1(d, topic) for d, _ in pairs[20:40]]
    later_v2 = [v2({**d, "channel": "web"}, topic) for d, _ in pairs[40:]]
    assert later_v2[0][:5] != first[0][:5]  # a new schema id
    kafka_broker.produce(topic, first[:10], partition=0)
    kafka_broker.produce(topic, first[10:], partition=1)
    registry = {"url": schema_registry.url, "timeout": 1, "max.retries": 0}

    async def scenario() -> dict[str, Any]:
        sandbox = SandboxServer(SandboxState(ban=False))
        await sandbox.start()
        state = sandbox.state
        seen: dict[str, Any] = {}
        try:
            pipeline = await build_pipeline(_config(
                kafka_broker, topic, sandbox, "g-frozen", format="avro", schema_registry=registry,
                metrics={"port": 0, "host": "127.0.0.1"}))
            task = asyncio.create_task(pipeline.run())

            async def until(condition: Callable[[], bool], what: str) -> None:
                deadline = time.monotonic() + 90
                while not condition():
                    assert not task.done() and time.monotonic() < deadline, what
                    await asyncio.sleep(0.05)

            delivered = lambda: len(state.activities) + len(state.contacts)  # noqa: E731
            await until(lambda: delivered() == 20, "the first events")
            schema_registry.pause()
            try:
                await asyncio.to_thread(kafka_broker.produce, topic, later_v2, partition=0)
                await asyncio.to_thread(kafka_broker.produce, topic, later_v1, partition=1)
                # Partition 1 flows; partition 0 waits for the schema the frozen registry has.
                # Partition 1's commit shows the checkpoints go on while partition 0 waits.
                await until(lambda: delivered() == 40 and pipeline.decoding.problem is not None
                            and pipeline.decoding.held == 20
                            and pipeline.committed.get((topic, 1), 0) >= 20,
                            "partition 1 delivered and committed while partition 0 waits")
                assert pipeline.health is not None and pipeline.health.port
                async with httpx.AsyncClient() as http:
                    answer = await http.get(f"http://127.0.0.1:{pipeline.health.port}/readyz")
                seen["readyz"] = (answer.status_code, answer.text)
                seen["committed_while_frozen"] = dict(pipeline.committed)
                seen["dead_while_frozen"] = pipeline.dead_letter.written
                seen["held"] = pipeline.decoding.held
            finally:
                schema_registry.resume()
            ends = await asyncio.to_thread(kafka_broker.end_offsets, topic)
            await until(_committed_all(pipeline, topic, ends), "everything after the thaw")
            seen["readiness_after"] = pipeline.readiness()
            seen["delivered"] = delivered()
            seen["dead"] = pipeline.dead_letter.written
            pipeline.stop()
            await task
            return seen
        finally:
            await sandbox.stop()

    seen = asyncio.run(scenario())
    status, why = seen["readyz"]
    assert status == 503 and "schema registry unreachable" in why
    assert seen["committed_while_frozen"].get((topic, 0), 0) <= 10
    assert seen["dead_while_frozen"] == 0 and seen["dead"] == 0
    assert seen["held"] == 20
    assert seen["delivered"] == 60
    assert seen["readiness_after"] == (True, "delivering")
    assert kafka_broker.consume_all(f"{topic}.dlq", timeout=1.0) == []
