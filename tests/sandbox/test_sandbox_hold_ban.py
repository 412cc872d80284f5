"""Holding requests open until released, and Ortto's ban on callers that misbehave."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from streamer.sandbox import BanPolicy, SandboxServer, SandboxState
from streamer.testing import FakeClock

Factory = Callable[..., dict[str, Any]]
ServerFactory = Callable[..., SandboxServer]


def _post_in_background(
    url: str, auth: dict[str, str], path: str, body: Any, results: list[httpx.Response]
) -> threading.Thread:
    def send() -> None:
        with httpx.Client(base_url=url, headers=auth, timeout=10) as client:
            results.append(client.post(path, json=body))

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def test_a_held_request_is_not_processed_until_released(
    sandbox: SandboxServer, auth: dict[str, str], activity: Factory
) -> None:
    state = sandbox.state
    state.hold(1, endpoints=["track"])
    results: list[httpx.Response] = []
    thread = _post_in_background(sandbox.url, auth, "/track", [activity(1)], results)
    assert state.wait_held(1, timeout=30)
    # other endpoints are not held, and nothing of the held request is stored yet
    assert httpx.get(f"{sandbox.url}/me", headers=auth).status_code == 200
    assert state.activities == []
    assert results == []
    assert state.stats()["held"] == 1
    assert state.release() == 1
    thread.join(30)
    assert results[0].json() == {"errors": []}
    assert [item["message_id"] for item in state.activities] == ["m-1"]
    # the hold was for one request only
    with httpx.Client(base_url=sandbox.url, headers=auth) as client:
        assert client.post("/track", json=[activity(2)]).status_code == 200


def test_release_lets_the_oldest_go_first(
    sandbox: SandboxServer, auth: dict[str, str], activity: Factory
) -> None:
    state = sandbox.state
    state.hold(2)
    results: list[httpx.Response] = []
    first = _post_in_background(sandbox.url, auth, "/track", [activity(1)], results)
    assert state.wait_held(1, timeout=30)
    second = _post_in_background(sandbox.url, auth, "/track", [activity(2)], results)
    assert state.wait_held(2, timeout=30)
    assert state.release(1) == 1
    first.join(30)
    assert [item["message_id"] for item in state.activities] == ["m-1"]
    assert state.held == 1
    assert state.release() == 1
    second.join(30)
    assert len(results) == 2
    assert [item["message_id"] for item in state.activities] == ["m-1", "m-2"]


def test_stopping_the_server_releases_held_requests(
    auth: dict[str, str], activity: Factory
) -> None:
    server = SandboxServer(SandboxState(ban=False))
    results: list[httpx.Response] = []
    with server.run_in_thread():
        server.state.hold(1)
        thread = _post_in_background(server.url, auth, "/track", [activity(1)], results)
        assert server.state.wait_held(1, timeout=15)
        started = time.monotonic()
    assert time.monotonic() - started < 10
    thread.join(10)
    assert not thread.is_alive()


def test_wait_held_times_out(sandbox: SandboxServer) -> None:
    sandbox.state.hold(1)
    assert not sandbox.state.wait_held(1, timeout=0.05)
    assert sandbox.state.stats()["hold_armed"] == 1
    sandbox.state.release()
    assert sandbox.state.stats()["hold_armed"] == 0


def test_the_ban_is_on_by_default_with_ortto_numbers() -> None:
    state = SandboxState()
    assert state.ban_enabled
    assert state.bans.policy == BanPolicy(enabled=True, threshold=15, window=15.0, duration=15.0)


def test_fifteen_bad_requests_ban_the_caller(
    make_sandbox: ServerFactory, auth: dict[str, str]
) -> None:
    sandbox = make_sandbox(ban=True)
    bad = {"Authorization": "Bearer pau-refused"}
    sandbox.state.set_key_valid("pau-refused", False)
    with httpx.Client(base_url=sandbox.url) as client:
        statuses = [client.get("/me", headers=bad).status_code for _ in range(15)]
        banned = client.get("/me", headers=auth)
    assert statuses == [401] * 15
    assert banned.status_code == 429
    error = banned.json()["error"]
    assert error["code"] == "rate-limit"
    assert "banned" in error["message"]
    assert 1 <= error["try-in-seconds"] <= 15
    assert banned.headers["Retry-After"] == str(error["try-in-seconds"])
    stats = sandbox.state.stats()
    assert stats["bans"] == 1
    assert stats["bad_requests"] == 15


def test_a_ban_expires(make_sandbox: ServerFactory, auth: dict[str, str]) -> None:
    clock = FakeClock()  # the ban's time moves only when the test says so
    sandbox = make_sandbox(ban=BanPolicy(threshold=3, window=5, duration=0.5), clock=clock)
    with httpx.Client(base_url=sandbox.url, headers=auth) as client:
        for _ in range(3):
            assert client.post("/track", content=b"nope").status_code == 400
        assert client.get("/me").status_code == 429
        clock.advance(0.25)
        assert client.get("/me").status_code == 429
        clock.advance(0.25)
        assert client.get("/me").status_code == 200


def test_bad_requests_outside_the_window_do_not_add_up(
    make_sandbox: ServerFactory, auth: dict[str, str]
) -> None:
    clock = FakeClock()
    sandbox = make_sandbox(ban=BanPolicy(threshold=3, window=0.5, duration=5), clock=clock)
    with httpx.Client(base_url=sandbox.url, headers=auth) as client:
        for _ in range(2):
            client.post("/track", content=b"nope")
        clock.advance(0.75)
        client.post("/track", content=b"nope")
        assert client.get("/me").status_code == 200
        # Two more within the window of the third: three in the window, banned.
        client.post("/track", content=b"nope")
        client.post("/track", content=b"nope")
        assert client.get("/me").status_code == 429


@pytest.mark.parametrize("ban", [False, True])
def test_the_ban_can_be_turned_off_and_on(
    make_sandbox: ServerFactory, auth: dict[str, str], ban: bool
) -> None:
    sandbox = make_sandbox(ban=not ban)
    sandbox.state.set_ban(BanPolicy(enabled=ban, threshold=5))
    with httpx.Client(base_url=sandbox.url) as client:
        statuses = {client.get("/me").status_code for _ in range(8)}
    assert statuses == ({401, 429} if ban else {401})


def test_injected_server_faults_do_not_count_as_bad_requests(
    make_sandbox: ServerFactory, auth: dict[str, str]
) -> None:
    plan = [{"kind": "request_error", "count": 5}, {"kind": "rate_limit", "count": 5}]
    sandbox = make_sandbox(ban=BanPolicy(threshold=3), faults=plan)
    with httpx.Client(base_url=sandbox.url, headers=auth) as client:
        statuses = [client.get("/me").status_code for _ in range(11)]
    assert statuses == [503] * 5 + [429] * 5 + [200]
    assert sandbox.state.stats()["bans"] == 0
