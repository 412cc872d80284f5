"""Start-up (``build_pipeline``): compiled once, audiences bound, one line saying what starts,
and errors that name the endpoint's host and the operating system's reason, never the key."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from streamer import RequestError, __version__
from streamer.app import _build, build_pipeline
from streamer.config import parse_config
from streamer.sandbox import SandboxServer, SandboxState
from streamer.sender import OrttoClient

KEY = "pau-build-test-key"


def _config(bootstrap: str, endpoint: str, **ortto: Any) -> Any:
    return parse_config({
        "kafka": {"bootstrap_servers": bootstrap, "topics": ["a", "b"], "group_id": "g-build",
                  "dead_letter_topic": "a.dlq"},
        "ortto": {"api_key": KEY, "endpoint": endpoint, **ortto},
        "metrics": {"port": 0, "host": "127.0.0.1"},
        "subscriptions": [
            {"name": "buyers", "trigger": 'type = "track"', "action": "trackActivity",
             "mapping": {"timestamp": {"@path": "$.timestamp"},
                         "message_id": {"@path": "$.messageId"},
                         "user_id": {"@path": "$.userId"}, "event": {"@path": "$.event"},
                         "audience_update_mode": "add"},
             "audience": "Buyers"},
            {"name": "people", "trigger": 'type = "identify"', "action": "upsertContactProfile"},
        ],
    }, environ={})


def test_subscriptions_are_compiled_once_and_audiences_bound(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    compiled: list[object] = []
    routers: list[Any] = []
    real_compile, real_pipeline = _build.compile_router, _build.Pipeline

    def compile_router(*args: Any, **kwargs: Any) -> Any:
        compiled.append(args)
        return real_compile(*args, **kwargs)

    def pipeline(*args: Any, **kwargs: Any) -> Any:
        routers.append(kwargs["router"])
        return real_pipeline(*args, **kwargs)

    monkeypatch.setattr(_build, "compile_router", compile_router)
    monkeypatch.setattr(_build, "Pipeline", pipeline)

    async def scenario() -> tuple[str, list[dict[str, Any]]]:
        state = SandboxState(api_keys=[KEY], ban=False)
        sandbox = SandboxServer(state)
        await sandbox.start()
        try:
            built = await build_pipeline(_config(kafka_bootstrap, sandbox.url))
            built.dead_letter.close(1.0)
            await built.source.close()
            await built.client.aclose()
            return sandbox.url, state.audiences
        finally:
            await sandbox.stop()

    with caplog.at_level(logging.INFO, logger="streamer.app"):
        url, audiences = asyncio.run(scenario())
    assert len(compiled) == 1
    assert [a["name"] for a in audiences] == ["Buyers"]
    (router,) = routers
    event = {"type": "track", "event": "Bought", "messageId": "m1", "userId": "u1",
             "timestamp": "2024-01-01T00:00:00Z", "properties": {"email": "a@example.com"}}
    (outcome,) = router.route(event)
    assert outcome.item["audience"]["id"] == audiences[0]["id"]
    (line,) = [r.getMessage() for r in caplog.records if " starting: " in r.getMessage()]
    host = url.split("://", 1)[1].split("/", 1)[0]
    for part in (f"streamer {__version__} starting", "group=g-build", "topics=a,b",
                 "start_from=latest", "routes=2", f"endpoint={host}", "metrics=127.0.0.1:0",
                 "compiled_steps=0"):  # an audience: its steps run interpreted
        assert part in line, line
    assert KEY not in line


def test_start_up_errors_name_the_host_and_the_reason() -> None:
    async def attempt(endpoint: str) -> str:
        client = OrttoClient(KEY, endpoint=endpoint, connect_timeout_s=5.0)
        try:
            with pytest.raises(RequestError) as caught:
                await client.check_key()
            with pytest.raises(RequestError) as audience:
                await client.create_audience("Buyers")
        finally:
            await client.aclose()
        assert "127.0.0.1:9" in str(audience.value)
        return str(caught.value)

    refused = asyncio.run(attempt("http://127.0.0.1:9/v1"))  # port 9: nothing listens
    assert "GET http://127.0.0.1:9/v1/me failed: ClientConnectorError" in refused
    assert "Connection refused" in refused
    assert KEY not in refused
