"""kafka.format, kafka.schema_registry and kafka.avro_schema: what goes together, errors by key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from streamer import ConfigError, DecodeError
from streamer.config import parse_config
from streamer.source import ImmediateDecoding, build_decoding, decode_json
from streamer.testing import SEGMENT_EVENT_SCHEMA

REGISTRY = {"url": "http://127.0.0.1:1/apis/ccompat/v7"}


def _kafka(**keys: Any) -> Any:
    raw = {"kafka": {"bootstrap_servers": "127.0.0.1:9092", "topics": ["t"],
                     "dead_letter_topic": "t.dlq", **keys},
           "ortto": {"api_key": "pau-test"}}
    config = parse_config(raw, environ={})
    assert config.kafka is not None
    return config.kafka


def _problems(**keys: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        _kafka(**keys)
    return str(caught.value)


def test_json_is_the_default_and_needs_nothing() -> None:
    kafka = _kafka()
    assert kafka.format == "json"
    decoding = build_decoding(kafka)
    assert isinstance(decoding, ImmediateDecoding) and decoding.decode is decode_json


@pytest.mark.parametrize(("keys", "named"), [
    ({"format": "avro"}, "kafka.schema_registry"),
    ({"format": "auto"}, "kafka.schema_registry"),
    ({"format": "auto", "avro_schema": str(SEGMENT_EVENT_SCHEMA)}, "kafka.schema_registry"),
    ({"format": "avro", "schema_registry": REGISTRY, "avro_schema": str(SEGMENT_EVENT_SCHEMA)},
     "exclude each other"),
    ({"schema_registry": REGISTRY}, "kafka.schema_registry is read only with kafka.format"),
    ({"avro_schema": str(SEGMENT_EVENT_SCHEMA)}, "kafka.avro_schema is read only"),
    ({"format": "xml"}, "kafka.format"),
    ({"format": "avro", "schema_registry": {"basic.auth.user.info": "a:b"}},
     "kafka.schema_registry"),
    ({"format": "avro", "schema_registry": {"url": "registry:8081"}}, "http://"),
    ({"format": "avro", "schema_registry": {**REGISTRY, "no.such.property": 1}},
     "no.such.property"),
    ({"format": "avro", "avro_schema": "/nonexistent/x.avsc"}, "kafka.avro_schema"),
])
def test_what_does_not_go_together_is_refused_by_key(keys: dict[str, Any], named: str) -> None:
    assert named in _problems(**keys)


def test_an_invalid_schema_file_is_refused_with_its_name(tmp_path: Path) -> None:
    bad = tmp_path / "event.avsc"
    bad.write_text('{"type": "record", "name": "E", "fields": [{"name": "x"}]}')
    problems = _problems(format="avro", avro_schema=str(bad))
    assert "kafka.avro_schema" in problems and "event.avsc" in problems


def test_the_registry_client_takes_its_own_properties() -> None:
    kafka = _kafka(format="avro", schema_registry={
        **REGISTRY, "basic.auth.user.info": "user:secret", "timeout": 2, "max.retries": 0})
    assert "secret" not in repr(kafka)
    decoding = build_decoding(kafka)
    try:
        assert decoding.problem is None and decoding.held == 0
    finally:
        decoding.close()


def test_schemaless_avro_decodes_with_the_file() -> None:
    decoding = build_decoding(_kafka(format="avro", avro_schema=str(SEGMENT_EVENT_SCHEMA)))
    with pytest.raises(DecodeError) as caught:
        decoding.decode(b"{}")
    assert caught.value.reason == "invalid_avro"
    assert decoding.admit([]) == []
