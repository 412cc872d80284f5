"""Source: the Kafka consumer, bounded ranges read by assignment, the decoding of messages into
Segment events, and the cluster questions the operator's commands ask."""

from ._cluster import ClusterView, GroupMember, admin_settings
from ._consumer import KafkaSource, RebalanceHandler
from ._decode import Decoder, decode_json
from ._range import PartitionRange, RangeSource

__all__ = [
    "ClusterView",
    "Decoder",
    "GroupMember",
    "KafkaSource",
    "PartitionRange",
    "RangeSource",
    "RebalanceHandler",
    "admin_settings",
    "decode_json",
]
