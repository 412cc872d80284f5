"""``schemas/segment-event.avsc`` evolves compatibly, checked by a real registry (Apicurio).

A producer that registered the schema as it was before the top-level ``version`` field can
register the current one under the same subject with ``FULL`` compatibility (old readers read
new records, new readers old ones); each record then decodes with its own writer's schema, the
one the registry gives for its id, as the pipeline does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import fastavro
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from streamer.source import AvroReader
from streamer.testing import SEGMENT_EVENT_SCHEMA, schemaless_avro, segment_avro_datum

CURRENT: dict[str, Any] = json.loads(SEGMENT_EVENT_SCHEMA.read_text())
BEFORE_VERSION: dict[str, Any] = {
    **CURRENT, "fields": [f for f in CURRENT["fields"] if f["name"] != "version"]}


@pytest.fixture
def client(registry_url: str) -> Iterator[SchemaRegistryClient]:
    with SchemaRegistryClient({"url": registry_url}) as registry:
        yield registry


def _schema(schema: dict[str, Any]) -> Schema:
    return Schema(json.dumps(schema), "AVRO")


def test_adding_version_is_fully_compatible(client: SchemaRegistryClient) -> None:
    assert len(BEFORE_VERSION["fields"]) == len(CURRENT["fields"]) - 1
    subject = f"segment-events-{uuid.uuid4().hex[:8]}-value"
    client.set_compatibility(subject, "FULL")
    before_id = client.register_schema(subject, _schema(BEFORE_VERSION))
    # The registry enforces the rule: a new field without a default breaks old records.
    required = {**CURRENT, "fields": [
        *BEFORE_VERSION["fields"], {"name": "version", "type": "long"}]}
    assert not client.test_compatibility(subject, _schema(required))
    assert client.test_compatibility(subject, _schema(CURRENT))
    current_id = client.register_schema(subject, _schema(CURRENT))
    assert current_id != before_id

    event = {"type": "track", "event": "Order Completed", "userId": "u1", "version": 2}
    decoded = {}
    for schema_id, schema in ((before_id, BEFORE_VERSION), (current_id, CURRENT)):
        writer = client.get_schema(schema_id).schema_str or ""
        value = schemaless_avro(segment_avro_datum(event, schema), schema)
        decoded[schema_id] = AvroReader(fastavro.parse_schema(json.loads(writer)))(value)
    # A record of the older schema has no version; one of the current schema keeps it.
    assert decoded == {before_id: {k: v for k, v in event.items() if k != "version"},
                       current_id: event}
