"""The configuration schema: one YAML file, validated once at start-up.

Unknown keys are errors (a typo must not silently fall back to a default), and every error names
the dotted key it is about. Secrets come in through ``${VAR}`` expansion (see ``_load.py``).
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "BatchingConfig",
    "Config",
    "DeliveryConfig",
    "IntegrationsConfig",
    "KafkaConfig",
    "MetricsConfig",
    "OrttoConfig",
    "SubscriptionConfig",
]

MAX_SUBSCRIPTIONS = 50
"""A Segment destination holds at most 50 mappings; so does streamer."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class KafkaConfig(_Section):
    bootstrap_servers: str
    topics: list[str] = Field(min_length=1)
    group_id: str = "streamer"
    dead_letter_topic: str
    consumer: dict[str, Any] = Field(default_factory=dict)
    """Extra librdkafka consumer properties, passed through (TLS, SASL, ...)."""
    producer: dict[str, Any] = Field(default_factory=dict)
    """Extra librdkafka producer properties for the dead-letter producer."""
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
    backoff_max_s: float = Field(default=30.0, gt=0)
    retryable_statuses: list[int] = Field(
        default_factory=lambda: [408, 423, 429, 500, *range(502, 512)]
    )
    max_pending_items: int = Field(default=50_000, ge=100)
    """High-water mark of items consumed but not done: partitions pause above it."""
    shutdown_grace_s: float = Field(default=10.0, ge=0)
    revoke_grace_s: float = Field(default=5.0, ge=0)


class MetricsConfig(_Section):
    port: int | None = Field(default=9108, ge=0, le=65_535)
    """Port of ``/metrics``, ``/healthz`` and ``/readyz``; ``null`` disables; 0 picks one."""
    host: str = "0.0.0.0"


class SubscriptionConfig(_Section):
    """One mapping: Segment's export (``subscribe``, ``partnerAction``) pastes in unchanged."""

    name: str = ""
    trigger: str = Field(validation_alias=AliasChoices("trigger", "subscribe"))
    action: str = Field(validation_alias=AliasChoices("action", "partnerAction"))
    mapping: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True
    audience: str | None = None


class Config(_Section):
    kafka: KafkaConfig | None = None
    """Required by ``run`` and ``demo``; ``preview`` needs only ``ortto`` and ``subscriptions``."""
    ortto: OrttoConfig
    batching: BatchingConfig = Field(default_factory=BatchingConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    subscriptions: list[SubscriptionConfig] | None = Field(
        default=None, max_length=MAX_SUBSCRIPTIONS
    )
    """``None`` (absent) means the two presets; an empty list means nothing is delivered."""
