"""Source: the Kafka consumer and the decoding of messages into Segment events."""

from ._consumer import KafkaSource, RebalanceHandler
from ._decode import Decoder, decode_json

__all__ = ["Decoder", "KafkaSource", "RebalanceHandler", "decode_json"]
