"""Source: the Kafka consumer and the decoding of messages into Segment events (JSON, Avro)."""

from ._avro import AvroReader, json_value, load_schema
from ._consumer import KafkaSource, RebalanceHandler
from ._decode import Decoder, decode_json
from ._formats import Decoding, ImmediateDecoding, build_decoding, registry_client

__all__ = [
    "AvroReader",
    "Decoder",
    "Decoding",
    "ImmediateDecoding",
    "KafkaSource",
    "RebalanceHandler",
    "build_decoding",
    "decode_json",
    "json_value",
    "load_schema",
    "registry_client",
]
