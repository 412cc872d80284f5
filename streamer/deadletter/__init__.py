"""Dead-letter: rejected messages go to a Kafka topic with the reason, never dropped."""

from ._read import read_dead_letter
from ._record import Rejection, build_headers
from ._writer import DeadLetterWriter

__all__ = ["DeadLetterWriter", "Rejection", "build_headers", "read_dead_letter"]
