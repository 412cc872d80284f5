"""Fixtures of the sandbox's own tests: a sandbox served from a thread on 127.0.0.1, and an
httpx client of its contract endpoints carrying a valid key, and factories of valid items
(fixtures, since the suite imports test modules in importlib mode, where they cannot import
each other).

The ban is off in the default fixture (these tests send bad requests on purpose); the tests of
the ban build their own state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from streamer.sandbox import SandboxServer, SandboxState

API_KEY = "pau-test-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def activity(number: int = 1, **fields: Any) -> dict[str, Any]:
    """A valid track item, as Segment's Track Activity preset would map it."""
    item: dict[str, Any] = {
        "timestamp": f"2026-11-28T10:00:{number % 60:02d}.000Z",
        "message_id": f"m-{number}",
        "user_id": f"u{number}",
        "enable_batching": True,
        "ip": "1.2.3.4",
        "location": {"country": "AU", "city": "Sydney", "post_code": "2000"},
        "traits": {"email": f"user{number}@example.com"},
        "audience_update_mode": "add",
        "batch_size": 500,
        "event": "Product Added",
        "namespace": "com.example.app",
        "properties": {"sku": f"SKU-{number}", "price": 9.5},
    }
    item.update(fields)
    return item


def contact(number: int = 1, **fields: Any) -> dict[str, Any]:
    """A valid identify item, as Segment's Upsert Contact preset would map it."""
    item: dict[str, Any] = {
        "timestamp": f"2026-11-28T11:00:{number % 60:02d}.000Z",
        "message_id": f"c-{number}",
        "user_id": f"u{number}",
        "enable_batching": True,
        "ip": "1.2.3.4",
        "traits": {"email": f"user{number}@example.com", "first_name": "Ada"},
        "audience_update_mode": "add",
        "batch_size": 500,
    }
    item.update(fields)
    return item


ServerFactory = Callable[..., SandboxServer]
ItemFactory = Callable[..., dict[str, Any]]


@pytest.fixture(name="activity")
def activity_factory() -> ItemFactory:
    """``activity(number, **overrides)``: a valid track item."""
    return activity


@pytest.fixture(name="contact")
def contact_factory() -> ItemFactory:
    """``contact(number, **overrides)``: a valid identify item."""
    return contact


@pytest.fixture
def auth() -> dict[str, str]:
    """The Authorization header of the valid key ``API_KEY``."""
    return dict(AUTH)


@pytest.fixture
def make_sandbox() -> Iterator[ServerFactory]:
    """Start sandboxes (in threads) with the given SandboxState options; stopped at teardown."""
    with ExitStack() as stack:

        def make(**options: Any) -> SandboxServer:
            options.setdefault("ban", False)
            server = SandboxServer(SandboxState(**options))
            return stack.enter_context(server.run_in_thread())

        yield make


@pytest.fixture
def sandbox(make_sandbox: ServerFactory) -> SandboxServer:
    return make_sandbox()


@pytest.fixture
def http(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """A client of the contract endpoints (base URL ``.../v1``) with a valid key."""
    with httpx.Client(base_url=sandbox.url, headers=AUTH, timeout=10) as client:
        yield client
