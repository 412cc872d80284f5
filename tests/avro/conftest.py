"""The Avro tests' schema registry: real Apicurio Registry (in memory), once per session.

Set ``STREAMER_TEST_REGISTRY=http://host:port/apis/ccompat/v7`` to use a running registry
instead (the test that freezes the registry is then skipped).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from streamer.testing import SchemaRegistry


@pytest.fixture(scope="session")
def schema_registry() -> Iterator[SchemaRegistry | str]:
    external = os.environ.get("STREAMER_TEST_REGISTRY")
    if external:
        yield external
        return
    with SchemaRegistry() as registry:
        yield registry


@pytest.fixture(scope="session")
def registry_url(schema_registry: SchemaRegistry | str) -> str:
    return schema_registry if isinstance(schema_registry, str) else schema_registry.url
