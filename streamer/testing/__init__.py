"""Test and demo support: a real local Kafka broker and small helpers around it.

``KafkaBroker`` starts Apache Kafka (KRaft, one node) from jars that Maven fetches once into a
cache outside the repository; ``KafkaCluster`` offers the same topic/produce/consume/offset helpers
for any broker address (e.g. ``STREAMER_TEST_BOOTSTRAP``). ``python -m streamer.testing fetch``
pre-fetches the jars (CI), ``python -m streamer.testing tools`` the tools that check the Helm
chart (``ensure_chart_tools``: helm, kubeconform, promtool, schemas, models);
``python -m streamer.testing run`` starts a broker until Ctrl-C.
``SchemaRegistry`` is a real Confluent-compatible schema registry (Apicurio, in memory) for the
Avro tests; ``python -m streamer.testing fetch-registry`` pre-fetches it.

Also shipped for tests of your own deployment: ``FakeClock`` (a controllable clock),
``sample_events`` and ``poison_values`` (Segment events, good and bad), ``sdk_events`` and
``sdk_records`` (events shaped like Segment's libraries send, about 1 KB each, for benchmarks),
``StreamerProcess``
(``streamer run`` in a child process, to be killed and restarted), ``TopicTail`` (a topic
read back many times, each read catching up from where the last one stopped), and
``wait_until`` (a condition polled until it holds: tests wait on progress, not on time).
"""

from streamer.testing._avro_events import (
    SEGMENT_EVENT_SCHEMA,
    schemaless_avro,
    segment_avro_datum,
)
from streamer.testing._broker import DEFAULT_JVM_OPTIONS, KafkaBroker, start_local_broker
from streamer.testing._clock import FakeClock
from streamer.testing._cluster import ConsumedMessage, Headers, KafkaCluster, TopicFactory
from streamer.testing._fakes import FakeMessage, poison_values, sample_events
from streamer.testing._jars import KAFKA_VERSION, ensure_kafka_jars, kafka_cache_dir
from streamer.testing._process import StreamerProcess
from streamer.testing._registry import APICURIO_VERSION, SchemaRegistry, ensure_registry_app
from streamer.testing._sdk_events import SDK_MIXES, sdk_events, sdk_records
from streamer.testing._tail import TopicTail
from streamer.testing._tools import KUBERNETES_VERSION, ChartTools, ensure_chart_tools
from streamer.testing._wait import wait_until

__all__ = [
    "APICURIO_VERSION",
    "DEFAULT_JVM_OPTIONS",
    "KAFKA_VERSION",
    "KUBERNETES_VERSION",
    "SDK_MIXES",
    "SEGMENT_EVENT_SCHEMA",
    "ChartTools",
    "ConsumedMessage",
    "FakeClock",
    "FakeMessage",
    "Headers",
    "KafkaBroker",
    "KafkaCluster",
    "SchemaRegistry",
    "StreamerProcess",
    "TopicFactory",
    "TopicTail",
    "ensure_chart_tools",
    "ensure_kafka_jars",
    "ensure_registry_app",
    "kafka_cache_dir",
    "poison_values",
    "sample_events",
    "schemaless_avro",
    "sdk_events",
    "sdk_records",
    "segment_avro_datum",
    "start_local_broker",
    "wait_until",
]
