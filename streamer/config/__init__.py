"""Configuration: one YAML file validated at start-up (see ``_model.py`` for every key)."""

from ._load import ENV_PREFIX, load_config, parse_config
from ._model import (
    MAX_SUBSCRIPTIONS,
    BatchingConfig,
    Config,
    DeliveryConfig,
    IntegrationsConfig,
    KafkaConfig,
    MetricsConfig,
    OrttoConfig,
    SubscriptionConfig,
)

__all__ = [
    "ENV_PREFIX",
    "MAX_SUBSCRIPTIONS",
    "BatchingConfig",
    "Config",
    "DeliveryConfig",
    "IntegrationsConfig",
    "KafkaConfig",
    "MetricsConfig",
    "OrttoConfig",
    "SubscriptionConfig",
    "load_config",
    "parse_config",
]
