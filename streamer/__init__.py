"""streamer: Segment-spec events from Kafka to Ortto, exactly as Segment's Ortto (Actions)
destination would send them, with offsets committed only behind confirmed work."""

from ._exceptions import (
    AuthenticationError,
    BrokerError,
    ConfigError,
    DeadLetterError,
    DecodeError,
    DeliveryError,
    InvalidApiKeyError,
    KafkaClientError,
    MappingError,
    OrttoError,
    RequestError,
    StreamerError,
    ToolError,
    UsageError,
)
from ._version import __version__
from .config import Config, load_config

__all__ = [
    "AuthenticationError",
    "BrokerError",
    "Config",
    "ConfigError",
    "DeadLetterError",
    "DecodeError",
    "DeliveryError",
    "InvalidApiKeyError",
    "KafkaClientError",
    "MappingError",
    "OrttoError",
    "RequestError",
    "StreamerError",
    "ToolError",
    "UsageError",
    "__version__",
    "load_config",
]
