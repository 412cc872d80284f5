"""The sender's tests talk to loopback servers directly: a proxy of the developer's environment
would take the requests (and send them through httpx instead of aiohttp)."""

from __future__ import annotations

import pytest

_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _PROXIES:
        monkeypatch.delenv(name, raising=False)
