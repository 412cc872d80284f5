"""The one exception hierarchy of streamer.

Every error streamer raises on purpose derives from :class:`StreamerError`, so a caller can catch
the whole family with one clause and still tell the cases apart::

    StreamerError
    ├── ConfigError            the configuration file or an override is invalid (names the key)
    │   └── InvalidApiKeyError the Ortto key has not the shape ``pau-...`` (never echoes the key)
    ├── MappingError           a trigger or mapping is invalid (also a ValueError)
    ├── DecodeError            a Kafka message is not a Segment event (dead-lettered, stage decode)
    ├── OrttoError             Ortto (or the sandbox) answered something we cannot use
    │   ├── AuthenticationError 401/403: the key is refused; delivery pauses, nothing dead-lettered
    │   └── RequestError       a whole request failed (status, timeout, connection, any
    │                          failure of the HTTP client): retried
    ├── DeliveryError          a delivery task died of a bug: fatal, processing stops
    ├── KafkaClientError       the consumer or a producer failed in a way that stops processing
    │   └── DeadLetterError    a dead-letter record was not acknowledged: never commit past it
    ├── UsageError             an operator's command cannot be carried out as asked (a range
    │                          outside the partition, an unknown subscription, a group in use)
    ├── BrokerError            the local test/demo broker could not start (carries the log tail)
    └── ToolError              a chart-checking tool (helm, promtool, ...) could not be fetched

Errors that are the event's fault never escape the pipeline: they become dead-letter records.
Errors above are the operator's business: a bad configuration, a refused key, an unwritable
dead-letter topic.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "BrokerError",
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
]


class StreamerError(Exception):
    """Root of every error streamer raises on purpose."""


class ConfigError(StreamerError, ValueError):
    """The configuration is invalid. The message names each offending key."""

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = problems if problems is not None else [message]


class InvalidApiKeyError(ConfigError):
    """The Ortto API key is malformed. The key itself is never part of the message."""


class MappingError(StreamerError, ValueError):
    """A trigger (FQL) or a mapping is invalid, or failed where Segment fails at evaluation."""


class DecodeError(StreamerError, ValueError):
    """A Kafka message could not be decoded into a Segment event object."""

    def __init__(self, message: str, *, reason: str = "decode_error") -> None:
        super().__init__(message)
        self.reason = reason


class OrttoError(StreamerError):
    """Ortto answered in a way the client cannot use."""


class AuthenticationError(OrttoError):
    """Ortto refused the API key (401 or 403)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class RequestError(OrttoError):
    """A whole request failed: an HTTP status, a timeout, a connection error, or any other
    failure of the HTTP client (``error_class`` names the exception when there was no answer)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        error_class: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.error_class = error_class


class DeliveryError(StreamerError):
    """A delivery task failed with an unexpected error (a bug). It is latched by the sender and
    raised by the pipeline's loop: the process turns unready and stops with a non-zero status,
    instead of leaving the batch's partition stalled until a restart."""


class KafkaClientError(StreamerError):
    """A Kafka client failed in a way that must stop processing."""


class DeadLetterError(KafkaClientError):
    """A dead-letter record could not be written: processing stops instead of committing."""


class BrokerError(StreamerError):
    """The local Kafka broker (tests, demo) failed to start; the message ends with its log."""


class UsageError(StreamerError):
    """An operator's command (replay, offsets reset...) cannot be carried out as asked; nothing
    was changed or sent. The message says what to ask instead."""


class ToolError(StreamerError):
    """A tool the chart's checks need could not be built or fetched; the message ends with its
    output."""
