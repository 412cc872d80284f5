"""The sandbox as a child process (``streamer sandbox``), driven by the control client."""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from streamer.sandbox import SandboxClient, SandboxProcess

API_KEY = "pau-test-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
Factory = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module")
def process() -> Iterator[SandboxProcess]:
    with SandboxProcess(api_keys=[API_KEY], ban=False) as sandbox:
        yield sandbox


@pytest.fixture
def control(process: SandboxProcess) -> SandboxClient:
    process.control.reset(audiences=True)
    return process.control


@pytest.fixture
def http(process: SandboxProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=process.url, headers=AUTH, timeout=10) as client:
        yield client


def test_the_url_is_read_from_the_first_line(process: SandboxProcess) -> None:
    assert process.url.startswith("http://127.0.0.1:")
    assert process.url.endswith("/v1")
    assert process.returncode is None
    assert process.control.health()


def test_read_back_through_the_control_api(
    control: SandboxClient, http: httpx.Client, activity: Factory, contact: Factory
) -> None:
    http.post("/track", json=[activity(1), activity(2, event="Signed Up"), activity(1)])
    http.post("/identify", json=[contact(1), contact(3, ip="nope")])
    assert [a["message_id"] for a in control.activities()] == ["m-1", "m-2"]
    assert control.activities(event="Signed Up") == [activity(2, event="Signed Up")]
    assert [a["message_id"] for a in control.activities(offset=1, limit=5)] == ["m-2"]
    assert control.contacts() == [contact(1)]
    assert set(control.profiles()) == {"user_id:u1"}
    stats = control.stats()
    assert stats["activities"] == 2 and stats["activity_duplicates"] == 1
    assert stats["endpoints"]["identify"]["rejected"] == 1
    log = control.requests()
    assert [entry["outcome"] for entry in log] == ["ok", "partial"]
    assert control.requests(limit=1) == log[-1:]
    stats = control.wait_until(lambda s: s["contacts"] == 1, timeout=1)
    assert stats["contacts"] == 1
    with pytest.raises(TimeoutError):
        control.wait_until(lambda s: s["contacts"] == 5, timeout=0.1)


def test_audiences_through_the_control_api(control: SandboxClient, http: httpx.Client) -> None:
    created = control.create_audience("Seeded")
    assert http.post("/audiences/create", json={"name": "Seeded"}).json() == created
    assert control.audiences() == [{**created, "members": []}]


def test_faults_through_the_control_api(
    control: SandboxClient, http: httpx.Client, activity: Factory
) -> None:
    rules = control.set_faults({"seed": 1, "rules": [{"kind": "rate_limit", "count": 1}]})
    assert rules[0]["kind"] == "rate_limit" and rules[0]["remaining"] == 1
    assert http.post("/track", json=[activity(1)]).status_code == 429
    assert http.post("/track", json=[activity(1)]).status_code == 200
    assert control.faults()[0]["fired"] == 1
    control.set_faults([{"kind": "request_error", "status": 500}])
    assert http.get("/me").status_code == 500
    control.clear_faults()
    assert control.faults() == []
    assert http.get("/me").status_code == 200
    with pytest.raises(httpx.HTTPStatusError) as refused:
        control.set_faults([{"kind": "nonsense"}])
    assert refused.value.response.status_code == 400
    assert "kind" in refused.value.response.json()["error"]["message"]


def test_hold_and_release_through_the_control_api(
    control: SandboxClient, process: SandboxProcess, activity: Factory
) -> None:
    control.hold(1, endpoints=["track"])
    answers: list[httpx.Response] = []

    def send() -> None:
        with httpx.Client(base_url=process.url, headers=AUTH, timeout=10) as client:
            answers.append(client.post("/track", json=[activity(9)]))

    thread = threading.Thread(target=send)
    thread.start()
    assert control.wait_held(1, timeout=30)
    assert control.held() == {"held": 1, "armed": 0, "endpoints": ["track"]}
    assert control.activities() == []
    assert control.release() == 1
    thread.join(30)
    assert answers[0].json() == {"errors": []}
    assert len(control.activities()) == 1
    assert not control.wait_held(1, timeout=0.05)


def test_keys_and_settings_through_the_control_api(
    control: SandboxClient, http: httpx.Client, activity: Factory
) -> None:
    control.set_key_valid(API_KEY, False)
    assert http.get("/me").status_code == 401
    control.set_key_valid(API_KEY, True)
    assert http.get("/me").status_code == 200
    other = {"Authorization": "Bearer pau-other"}
    assert http.get("/me", headers=other).status_code == 401
    control.set_key_valid("pau-other", True)
    assert http.get("/me", headers=other).status_code == 200

    settings = control.settings(partial_status=207, max_items=2)
    assert settings["partial_status"] == 207 and settings["max_items"] == 2
    assert settings["ban"]["enabled"] is False
    assert http.post("/track", json=[activity(1), activity(2, ip="x")]).status_code == 207
    assert http.post("/track", json=[activity(n) for n in range(3)]).status_code == 413
    settings = control.settings(ban={"enabled": True, "threshold": 2, "duration": 0.2})
    assert settings["ban"] == {"enabled": True, "threshold": 2, "window": 15.0, "duration": 0.2}
    control.settings(ban=False, partial_status=200, max_items=500)
    with pytest.raises(httpx.HTTPStatusError):
        control.settings(partial_status=204)


def test_cli_options_faults_file_and_exit(tmp_path: Path, activity: Factory) -> None:
    faults = tmp_path / "faults.yaml"
    faults.write_text("rules:\n  - kind: item_error\n    status: 429\n    count: 1\n")
    with SandboxProcess(faults=faults, api_keys=["pau-only"], retain="keys") as sandbox:
        auth = {"Authorization": "Bearer pau-only"}
        with httpx.Client(base_url=sandbox.url, headers=auth) as client:
            errors = client.post("/track", json=[activity(1)]).json()["errors"]
            assert errors[0]["status"] == 429
            assert client.post("/track", json=[activity(1)]).json() == {"errors": []}
        assert httpx.get(f"{sandbox.url}/me", headers=AUTH).status_code == 401
        stats = sandbox.control.stats()
        assert stats["retain"] == "keys" and stats["ban_enabled"] is True
        assert stats["activities"] == 1


def test_a_fault_plan_given_as_data(activity: Factory) -> None:
    with SandboxProcess(faults=[{"kind": "request_error", "status": 502}], ban=False) as sandbox:
        assert httpx.get(f"{sandbox.url}/me", headers=AUTH).status_code == 502


def test_an_invalid_fault_file_fails_the_start(tmp_path: Path) -> None:
    faults = tmp_path / "faults.json"
    faults.write_text('[{"kind": "explode"}]')
    with pytest.raises(RuntimeError, match=r"exit status 2.*fault file"):
        SandboxProcess(faults=faults).start()


def test_sigterm_stops_the_command_cleanly() -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "streamer.sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().decode().strip()
        assert httpx.get(f"{url}/me", headers=AUTH).status_code == 200
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=10) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        assert child.stdout is not None and child.stderr is not None
        child.stdout.close()
        child.stderr.close()


def _streamer_command_loads() -> bool:
    from streamer.cli import _COMMANDS

    return all(importlib.util.find_spec(module) is not None for module, _ in _COMMANDS.values())


@pytest.mark.skipif(
    not _streamer_command_loads(), reason="a sibling subcommand of `streamer` is not written yet"
)
def test_the_streamer_command_dispatches_to_the_sandbox() -> None:
    command = [sys.executable, "-m", "streamer", "sandbox"]
    with SandboxProcess(command=command, ban=False) as sandbox:
        assert httpx.get(f"{sandbox.url}/me", headers=AUTH).status_code == 200
