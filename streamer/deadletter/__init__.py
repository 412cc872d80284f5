"""Dead-letter: rejected messages go to a Kafka topic with the reason, never dropped; resolution
records mark the ones ``streamer redrive`` has handled."""

from ._read import read_dead_letter
from ._record import Rejection, build_headers
from ._resolution import (
    DeadLetterIdentity,
    LetterScan,
    identity_of,
    resolution_record,
    resolved_identity,
)
from ._writer import DeadLetterWriter

__all__ = [
    "DeadLetterIdentity",
    "DeadLetterWriter",
    "LetterScan",
    "Rejection",
    "build_headers",
    "identity_of",
    "read_dead_letter",
    "resolution_record",
    "resolved_identity",
]
