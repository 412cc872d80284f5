"""Configuration: one YAML file (YAML 1.2, JSON values) validated at start-up.

``_model.py`` has every key; ``_load.py`` the order of reading (expansion, overrides, one list
of every problem); ``_kafka.py`` the librdkafka properties streamer owns.
"""

from ._kafka import REFUSED_CONSUMER, REFUSED_PRODUCER
from ._load import ENV_PREFIX, load_config, parse_config
from ._model import (
    DEFAULT_RETRYABLE_STATUSES,
    MAX_SUBSCRIPTIONS,
    BatchingConfig,
    Config,
    DeliveryConfig,
    IntegrationsConfig,
    KafkaConfig,
    LoggingConfig,
    MetricsConfig,
    OrttoConfig,
    SubscriptionConfig,
)

__all__ = [
    "DEFAULT_RETRYABLE_STATUSES",
    "ENV_PREFIX",
    "MAX_SUBSCRIPTIONS",
    "REFUSED_CONSUMER",
    "REFUSED_PRODUCER",
    "BatchingConfig",
    "Config",
    "DeliveryConfig",
    "IntegrationsConfig",
    "KafkaConfig",
    "LoggingConfig",
    "MetricsConfig",
    "OrttoConfig",
    "SubscriptionConfig",
    "load_config",
    "parse_config",
]
