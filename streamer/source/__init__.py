"""Source: the Kafka consumer, bounded ranges read by assignment, the decoding of messages into
Segment events (JSON, Avro), and the cluster questions the operator's commands ask."""

from ._avro import AvroReader, json_value, load_schema
from ._cluster import ClusterView, GroupMember, admin_settings, member_names
from ._consumer import KafkaSource, RebalanceHandler, prefetch_bytes, prefetch_properties
from ._decode import Decoder, decode_json
from ._formats import Decoding, ImmediateDecoding, build_decoding, registry_client
from ._range import PartitionRange, RangeSource

__all__ = [
    "AvroReader",
    "ClusterView",
    "Decoder",
    "Decoding",
    "GroupMember",
    "ImmediateDecoding",
    "KafkaSource",
    "PartitionRange",
    "RangeSource",
    "RebalanceHandler",
    "admin_settings",
    "build_decoding",
    "decode_json",
    "json_value",
    "load_schema",
    "member_names",
    "prefetch_bytes",
    "prefetch_properties",
    "registry_client",
]
