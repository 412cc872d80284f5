"""The configuration schema: one YAML file, validated once at start-up.

Unknown keys are errors (a typo must not silently fall back to a default), and every error names
the dotted key it is about. Secrets come in through ``${VAR}`` expansion (see ``_load.py``).
A validator that finds several problems raises :func:`_problems` (a ``ConfigError``, which is a
``ValueError`` as pydantic needs), one ``"key: text"`` each, relative to its section, so that
each is reported under its own dotted key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .._exceptions import ConfigError
from ._json import json_problems
from ._kafka import REFUSED_CONSUMER, REFUSED_PRODUCER, property_problems

__all__ = [
    "DEFAULT_RETRYABLE_STATUSES",
    "MAX_SUBSCRIPTIONS",
    "BatchingConfig",
    "Config",
    "DeliveryConfig",
    "IntegrationsConfig",
    "KafkaConfig",
    "LoggingConfig",
    "MetricsConfig",
    "OrttoConfig",
    "SubscriptionConfig",
]

MAX_SUBSCRIPTIONS = 50
"""A Segment destination holds at most 50 mappings; so does streamer (checked here only)."""

DEFAULT_RETRYABLE_STATUSES: tuple[int, ...] = (408, 423, 429, 500, *range(502, 512))
"""Segment's framework retries these (the sender's policy uses the same tuple)."""

StartFrom = Literal["latest", "earliest"]


def _problems(problems: list[tuple[str, str]]) -> ConfigError:
    """Several problems of one section, each under its own key (relative to the section's)."""
    lines = [f"{key}: {text}" for key, text in problems]
    return ConfigError("; ".join(lines), problems=lines)


class _Section(BaseModel):
    # NaN and Infinity are no JSON numbers and no sensible timeout or rate either. A number
    # given for a text key (`group_id: 42`, STREAMER__KAFKA__GROUP_ID=42) is that text.
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False,
        coerce_numbers_to_str=True,
    )


class KafkaConfig(_Section):
    bootstrap_servers: str
    topics: list[str] = Field(min_length=1)
    group_id: str = "streamer"
    dead_letter_topic: str
    start_from: StartFrom = "latest"
    """Where a group with no committed offset on a topic starts: ``latest`` (what is produced
    from now on, as a new Segment destination) or ``earliest`` (the topic's whole retention).
    A partition added later to a topic the group has offsets on always starts at its beginning."""
    consumer: dict[str, Any] = Field(default_factory=dict)
    """Extra librdkafka consumer properties, passed through (TLS, SASL, ...); those streamer
    sets itself are refused (``_kafka.py``)."""
    producer: dict[str, Any] = Field(default_factory=dict)
    """Extra librdkafka producer properties for the dead-letter producer (same rule)."""
    session_timeout_ms: int = Field(default=10_000, ge=1_000)
    poll_batch: int = Field(default=1_000, ge=1, le=100_000)
    """Most messages taken from the consumer in one call."""
    commit_interval_ms: int = Field(default=1_000, ge=10)
    max_event_bytes: int = Field(default=1_000_000, ge=1_024)
    """A bigger value is dead-lettered at stage ``decode`` (``too_large``) without parsing it:
    Segment refuses events over 32 KB, and one huge value must not hold the memory hostage."""

    @field_validator("topics")
    @classmethod
    def _topics_named(cls, topics: list[str]) -> list[str]:
        if any(not t.strip() for t in topics):
            raise ValueError("topic names must not be empty")
        return topics

    @field_validator("consumer")
    @classmethod
    def _consumer_allowed(cls, properties: dict[str, Any]) -> dict[str, Any]:
        return _allowed(properties, REFUSED_CONSUMER)

    @field_validator("producer")
    @classmethod
    def _producer_allowed(cls, properties: dict[str, Any]) -> dict[str, Any]:
        return _allowed(properties, REFUSED_PRODUCER)


    # -- value format (Avro input): the rules are in streamer/source/_avro.py and the README ------
    format: Literal["json", "avro", "auto"] = "json"
    """``auto``: a value starting with the magic byte 0 is the Confluent wire format, one whose
    first non-blank byte is ``{`` is JSON."""
    schema_registry: dict[str, Any] | None = Field(default=None, repr=False)
    """Confluent-compatible registry: ``url`` and the client's own properties
    (``basic.auth.user.info``, ``ssl.*``, ``timeout``) passed through (never in a repr: it may
    carry credentials)."""
    avro_schema: str | None = None
    """Path of the ``.avsc`` every value is written with (schemaless Avro, ``format: avro``)."""

    @field_validator("schema_registry")
    @classmethod
    def _registry_url(cls, registry: dict[str, Any] | None) -> dict[str, Any] | None:
        if registry is not None:
            url = registry.get("url")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise ValueError("needs `url`, an http:// or https:// address of the registry")
            from ..source._formats import registry_client  # the source package imports config

            registry_client(registry).close()  # its own properties: refused ones named here
        return registry

    @field_validator("avro_schema")
    @classmethod
    def _avro_schema_readable(cls, path: str | None) -> str | None:
        if path is not None:
            from ..source._avro import load_schema  # the source package imports config

            load_schema(path)  # a ValueError naming the file and what is wrong
        return path

    @model_validator(mode="after")
    def _format_sources(self) -> KafkaConfig:
        registry, schema = self.schema_registry is not None, self.avro_schema is not None
        if registry and schema:
            raise ValueError("kafka.schema_registry and kafka.avro_schema exclude each other: "
                             "values are either in the Confluent wire format or schemaless")
        if self.format == "json" and (registry or schema):
            key = "schema_registry" if registry else "avro_schema"
            raise ValueError(f"kafka.{key} is read only with kafka.format avro or auto")
        if self.format == "avro" and not (registry or schema):
            raise ValueError("kafka.format avro needs kafka.schema_registry (Confluent wire "
                             "format) or kafka.avro_schema (schemaless)")
        if self.format == "auto" and not registry:
            raise ValueError("kafka.format auto needs kafka.schema_registry (schemaless Avro "
                             "cannot be told from other bytes: use format avro)")
        return self


def _allowed(properties: dict[str, Any], refused: Mapping[str, str]) -> dict[str, Any]:
    problems = property_problems(properties, refused)
    if problems:
        raise _problems(problems)
    return properties


class IntegrationsConfig(_Section):
    """How an event's ``integrations`` object turns this destination off (as Segment does)."""

    names: list[str] = Field(default_factory=lambda: ["Ortto (Actions)", "Ortto"], min_length=1)
    """The destination's keys in ``integrations``, compared exactly; the first present decides."""
    honour: bool = True
    """``false``: ignore the object, deliver every event."""

    @field_validator("names")
    @classmethod
    def _names_not_blank(cls, names: list[str]) -> list[str]:
        if any(not n.strip() for n in names):
            raise ValueError("names must not be blank")
        return names


class OrttoConfig(_Section):
    api_key: str = Field(min_length=1, repr=False)
    endpoint: str | None = None
    """Base URL override, such as ``http://127.0.0.1:8787/v1`` for the sandbox."""
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=30.0, gt=0)
    check_key: bool = True
    """Call ``GET /v1/me`` at start-up: a refused key is a start-up error."""
    startup_timeout_s: float = Field(default=60.0, ge=0)
    """How long start-up keeps trying to reach Ortto (a refused key fails at once)."""
    integrations: IntegrationsConfig = Field(default_factory=IntegrationsConfig)


class BatchingConfig(_Section):
    max_items: int = Field(default=500, ge=1, le=500)
    linger_ms: int = Field(default=200, ge=0)
    max_bytes: int = Field(default=2_000_000, ge=1_024)
    """Most bytes of one request body (Ortto's public API takes 2 MB); a single item that
    cannot fit is dead-lettered at stage ``validate`` (``too_large``)."""


class DeliveryConfig(_Section):
    max_in_flight: int = Field(default=8, ge=1, le=256)
    """Most requests open at once per endpoint; the adaptive limit moves below it."""
    rate_per_s: float | None = Field(default=None, gt=0)
    """Requests per second per endpoint (your Ortto plan's limit); ``null``: unlimited."""
    retry_budget_s: float | None = Field(default=300.0, ge=0)
    """How long a batch may be retried before its items are dead-lettered (retries_exhausted).
    ``null``: retry for as long as it takes; an Ortto outage then stalls the stream (partitions
    pause at the high-water mark) instead of filling the dead-letter topic."""
    backoff_initial_s: float = Field(default=0.2, gt=0)
    backoff_max_s: float = Field(default=30.0, gt=0, validate_default=True)
    retryable_statuses: list[int] = Field(default_factory=lambda: [*DEFAULT_RETRYABLE_STATUSES])
    max_pending_items: int = Field(default=50_000, ge=100)
    """High-water mark of items consumed but not done: partitions pause above it."""
    max_pending_bytes: int = Field(default=32 * 1024 * 1024, ge=1024 * 1024)
    """High-water mark of bytes held for work not done (source messages kept until settled,
    items in windows and in flight, dead letters not yet acknowledged, messages waiting for a
    schema): partitions pause above it and resume below half. librdkafka's prefetch is sized
    from it too (``source/_consumer.py``). At least 1 MiB: one event of
    ``kafka.max_event_bytes`` (1 MB by default) must fit."""
    ordering: Literal["per_contact", "none"] = "per_contact"
    """``per_contact``: per endpoint, at most one unconfirmed item per contact (its
    ``user_id``, else its ``anonymous_id``), so a later upsert never overtakes an earlier one.
    ``none``: items go out as they come (a contact's items may be applied out of order)."""
    ordering_pause_share: float = Field(default=0.25, gt=0, le=1)
    """A partition pauses on its own when its items held for ordering pass this share of
    ``max_pending_items`` (a hot contact); it resumes below half of that."""
    shutdown_grace_s: float = Field(default=10.0, ge=0)
    revoke_grace_s: float = Field(default=5.0, ge=0)

    @field_validator("retryable_statuses")
    @classmethod
    def _statuses(cls, statuses: list[int]) -> list[int]:
        bad = [(str(i), f"{s} is not an HTTP status (100-599)")
               for i, s in enumerate(statuses) if not 100 <= s <= 599]
        if bad:
            raise _problems(bad)
        return statuses

    @field_validator("backoff_max_s")
    @classmethod
    def _backoff_ordered(cls, backoff_max_s: float, info: ValidationInfo) -> float:
        # A field validator (not a model one): it runs even when another key is wrong.
        initial = info.data.get("backoff_initial_s")
        if initial is not None and initial > backoff_max_s:
            raise ValueError(
                f"{backoff_max_s:g} is below delivery.backoff_initial_s ({initial:g})"
            )
        return backoff_max_s


class MetricsConfig(_Section):
    port: int | None = Field(default=9108, ge=0, le=65_535)
    """Port of ``/metrics``, ``/healthz`` and ``/readyz``; ``null`` disables; 0 picks one."""
    host: str = "0.0.0.0"
    liveness_timeout_s: float = Field(default=30.0, gt=0)
    """``/healthz`` fails once the event loop or the consumer thread is silent this long."""


class LoggingConfig(_Section):
    """``auto``: text on a terminal, JSON lines otherwise (``streamer.observability``)."""

    format: Literal["json", "text", "auto"] = "auto"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class SubscriptionConfig(_Section):
    """One mapping: Segment's export (``subscribe``, ``partnerAction``) pastes in unchanged."""

    name: str = ""
    """Unique; the loader names an unnamed one after its action and position (with a warning)."""
    trigger: str = Field(validation_alias=AliasChoices("trigger", "subscribe"))
    action: str = Field(validation_alias=AliasChoices("action", "partnerAction"))
    mapping: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True
    audience: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _mapping_is_json(cls, data: Any) -> Any:
        # Also for a subscription built in code: generated code relies on string keys only.
        if isinstance(data, dict) and isinstance(data.get("mapping"), dict):
            problems: list[str] = []
            if not json_problems(data["mapping"], "mapping", problems):
                raise ConfigError("; ".join(problems), problems=problems)
        return data


class Config(_Section):
    kafka: KafkaConfig | None = None
    """Required by ``run`` and ``demo``; ``preview`` needs only ``ortto`` and ``subscriptions``."""
    ortto: OrttoConfig
    batching: BatchingConfig = Field(default_factory=BatchingConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    subscriptions: list[SubscriptionConfig] | None = Field(
        default=None, max_length=MAX_SUBSCRIPTIONS
    )
    """``None`` (absent) means the two presets; an empty list means nothing is delivered."""
