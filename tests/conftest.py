"""Fixtures shared by the whole suite.

Kafka: tests that need a broker ask for ``kafka_broker`` (a :class:`streamer.testing.KafkaCluster`
with admin helpers), ``kafka_bootstrap`` (its ``host:port``) or ``new_topic`` (a factory of fresh,
uniquely named topics). The broker is real Apache Kafka, started once per session on loopback the
first time a test asks for it; set ``STREAMER_TEST_BOOTSTRAP=host:port`` to use a running broker
instead. Every test that uses one of these fixtures gets the ``kafka`` marker automatically, so
``pytest -m "not kafka"`` runs the rest without Java.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator, Mapping

import pytest

from streamer.testing import KafkaBroker, KafkaCluster, TopicFactory

_KAFKA_FIXTURES = frozenset({"kafka_broker", "kafka_bootstrap", "new_topic"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _KAFKA_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.kafka)


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[KafkaCluster]:
    """The session's Kafka: a local KafkaBroker, or the one at STREAMER_TEST_BOOTSTRAP."""
    external = os.environ.get("STREAMER_TEST_BOOTSTRAP")
    if external:
        yield KafkaCluster(external)
        return
    with KafkaBroker() as broker:
        yield broker


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: KafkaCluster) -> str:
    """``host:port`` of the session's Kafka, for streamer's own configuration."""
    return kafka_broker.bootstrap_servers


@pytest.fixture
def new_topic(kafka_broker: KafkaCluster, request: pytest.FixtureRequest) -> Iterator[TopicFactory]:
    """Create fresh topics named after the test; they are deleted when the test ends."""
    created: list[str] = []
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", request.node.name)[:100].strip("-")

    def make(partitions: int = 1, *, config: Mapping[str, str] | None = None) -> str:
        name = f"{stem}-{uuid.uuid4().hex[:8]}"
        kafka_broker.create_topic(name, partitions, config=config)
        created.append(name)
        return name

    yield make
    for name in created:
        # Nothing reads these names again: no need to wait for the deletion to finish.
        kafka_broker.delete_topic(name, wait=False)


# --- lead: fixtures for other subsystems go below this line ---------------------------------------
