"""The value format of ``kafka.format``: one object the pipeline asks for its decoder and gate.

``json`` and schemaless ``avro`` (``kafka.avro_schema``) decode every value on its own: their
gate lets every message through. ``avro`` with ``kafka.schema_registry`` and ``auto`` need the
writer's schemas from the registry first: see ``_registry.py``.

The pipeline calls, in this order: ``admit(messages)`` after each poll (what may be dispatched
now), ``decode`` inside the Dispatcher, ``discard(keys)`` on revocation, ``close()`` at the end;
it reads ``held`` and ``held_bytes`` (back-pressure) and ``problem`` (readiness).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from .._exceptions import ConfigError
from ..config import KafkaConfig
from ._avro import AvroReader, load_schema
from ._decode import Decoder, decode_json

if TYPE_CHECKING:
    from confluent_kafka.schema_registry import SchemaRegistryClient

__all__ = ["Decoding", "ImmediateDecoding", "build_decoding", "registry_client"]

_REGISTRY_DEFAULTS: dict[str, Any] = {"timeout": 10.0, "max.retries": 0}
"""Unless configured: an HTTP timeout (the client's own default waits forever), and no retries
inside the client, whose backoff would keep a dead registry out of ``/readyz`` for a minute:
streamer retries each fetch itself, with backoff, and says unready meanwhile."""


class Decoding(Protocol):
    @property
    def decode(self) -> Decoder: ...

    @property
    def held(self) -> int: ...

    @property
    def held_bytes(self) -> int: ...

    @property
    def problem(self) -> str | None: ...

    def admit(self, messages: list[Any]) -> list[Any]: ...

    def discard(self, keys: Iterable[tuple[str, int]]) -> None: ...

    def close(self) -> None: ...


class ImmediateDecoding:
    """A format whose values need nothing fetched: JSON, schemaless Avro."""

    held = 0
    held_bytes = 0
    problem: str | None = None

    def __init__(self, decode: Decoder) -> None:
        self.decode = decode

    def admit(self, messages: list[Any]) -> list[Any]:
        return messages

    def discard(self, keys: Iterable[tuple[str, int]]) -> None:
        return None

    def close(self) -> None:
        return None


def build_decoding(
    config: KafkaConfig, *, backoff_initial_s: float = 0.2, backoff_max_s: float = 10.0
) -> Decoding:
    """The decoding ``config`` asks for; a registry client that refuses its properties is a
    :class:`ConfigError` naming ``kafka.schema_registry``."""
    if config.format == "json":
        return ImmediateDecoding(decode_json)
    if config.avro_schema is not None:
        try:
            return ImmediateDecoding(AvroReader(load_schema(config.avro_schema)))
        except ValueError as exc:
            raise ConfigError(f"kafka.avro_schema: {exc}") from None
    assert config.schema_registry is not None  # the model's rules
    from ._registry import RegistryDecoding

    try:
        client = registry_client(config.schema_registry)
    except ValueError as exc:
        raise ConfigError(f"kafka.schema_registry: {exc}") from None
    return RegistryDecoding(
        client, auto=config.format == "auto",
        backoff_initial_s=backoff_initial_s, backoff_max_s=backoff_max_s,
    )


def registry_client(properties: dict[str, Any]) -> SchemaRegistryClient:
    """confluent-kafka's client for ``kafka.schema_registry``; a ValueError names what it
    refuses. Properties not given take :data:`_REGISTRY_DEFAULTS`."""
    # The client's import takes a quarter of a second: only where a registry is configured.
    from confluent_kafka.schema_registry import SchemaRegistryClient

    try:
        return SchemaRegistryClient({**_REGISTRY_DEFAULTS, **properties})
    except (ValueError, TypeError) as exc:
        raise ValueError(f"the registry client refuses its properties: {exc}") from None
