"""The Ortto contract endpoints over real HTTP on 127.0.0.1: answers, keys, limits, storage."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from streamer.sandbox import SandboxServer, SandboxState

API_KEY = "pau-test-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
Factory = Callable[..., dict[str, Any]]


def test_track_accepts_valid_items_and_stores_them(
    sandbox: SandboxServer, http: httpx.Client, activity: Factory
) -> None:
    items = [activity(n) for n in range(3)]
    response = http.post("/track", json=items)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"errors": []}
    assert sandbox.state.activities == items
    stats = sandbox.state.stats()
    assert stats["endpoints"]["track"]["items"] == 3
    assert stats["endpoints"]["track"]["accepted"] == 3
    assert stats["endpoints"]["track"]["statuses"] == {"200": 1}


def test_identify_keeps_every_contact_and_upserts_profiles(
    sandbox: SandboxServer, http: httpx.Client, contact: Factory
) -> None:
    first = contact(1, traits={"email": "a@example.com", "plan": "free"})
    second = contact(2, user_id="u1", traits={"plan": "pro", "city": "Sydney"})
    anonymous = contact(3, user_id="", anonymous_id="a3", traits={"x": 1})
    response = http.post("/identify", json=[first, second, anonymous])
    assert response.json() == {"errors": []}
    assert sandbox.state.contacts == [first, second, anonymous]
    profiles = sandbox.state.profiles
    assert set(profiles) == {"user_id:u1", "anonymous_id:a3"}
    assert profiles["user_id:u1"]["traits"] == {
        "email": "a@example.com",
        "plan": "pro",
        "city": "Sydney",
    }
    assert profiles["user_id:u1"]["message_id"] == "c-2"


def test_invalid_items_are_listed_with_their_index_and_the_rest_accepted(
    sandbox: SandboxServer, http: httpx.Client, activity: Factory
) -> None:
    good = activity(1)
    items: list[Any] = [
        good,
        activity(2, ip="::1"),
        "not an object",
        {key: value for key, value in activity(3).items() if key != "event"},
        activity(4, event="   "),
        activity(5, location={"country": "AU", "zip": "2000"}),
    ]
    errors = http.post("/track", json=items).json()["errors"]
    assert [error["index"] for error in errors] == [1, 2, 3, 4, 5]
    assert all(error["status"] == 400 for error in errors)
    messages = [error["message"] for error in errors]
    assert messages[0].startswith("ip:")
    assert messages[1].startswith("item:")
    assert messages[2].startswith("event:")
    assert messages[3].startswith("event:")
    assert "location" in messages[4] and "zip" in messages[4]
    assert sandbox.state.activities == [good]
    counters = sandbox.state.stats()["endpoints"]["track"]
    assert (counters["items"], counters["accepted"], counters["rejected"]) == (6, 1, 5)


def test_an_identify_item_without_any_identity_is_refused(
    http: httpx.Client, contact: Factory
) -> None:
    item = contact(1)
    del item["user_id"]
    errors = http.post("/identify", json=[item, contact(2)]).json()["errors"]
    assert len(errors) == 1
    assert errors[0]["index"] == 0
    assert "user_id" in errors[0]["message"]


def test_partial_status_can_be_207(make_sandbox: Any, activity: Factory) -> None:
    sandbox = make_sandbox(partial_status=207)
    with httpx.Client(base_url=sandbox.url, headers=AUTH) as client:
        assert client.post("/track", json=[activity(1)]).status_code == 200
        response = client.post("/track", json=[activity(2), activity(3, ip="x")])
    assert response.status_code == 207
    assert [error["index"] for error in response.json()["errors"]] == [1]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"", 400, "not valid JSON"),
        (b'{"user_id": "u1"}', 400, "JSON array"),
        (None, 413, "at most 500"),  # 501 valid items
    ],
)
def test_whole_request_problems(
    sandbox: SandboxServer,
    http: httpx.Client,
    activity: Factory,
    body: bytes | None,
    status: int,
    fragment: str,
) -> None:
    if body is None:
        body = orjson.dumps([activity(n) for n in range(501)])
    response = http.post("/track", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert fragment in response.json()["error"]["message"]
    assert sandbox.state.activities == []
    assert sandbox.state.stats()["bad_requests"] == 1


def test_exactly_500_items_are_fine(
    sandbox: SandboxServer, http: httpx.Client, activity: Factory
) -> None:
    assert http.post("/track", json=[activity(n) for n in range(500)]).json() == {"errors": []}
    assert sandbox.state.stats()["activities"] == 500


def test_a_body_above_the_byte_limit_is_413(make_sandbox: Any, contact: Factory) -> None:
    sandbox = make_sandbox(max_body_bytes=4096)
    with httpx.Client(base_url=sandbox.url, headers=AUTH) as client:
        response = client.post("/identify", json=[contact(n) for n in range(40)])
    assert response.status_code == 413
    assert "4096 bytes" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer pa-u-bad"},
        {"Authorization": "Basic cGF1LWtleTo="},
        {"Authorization": "Bearer"},
    ],
)
def test_a_missing_or_malformed_key_is_401_without_echoing_it(
    sandbox: SandboxServer, headers: dict[str, str], activity: Factory
) -> None:
    with httpx.Client(base_url=sandbox.url, headers=headers) as client:
        for response in (client.get("/me"), client.post("/track", json=[activity(1)])):
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "unauthorized"
            assert "pa-u-bad" not in response.text
    assert sandbox.state.activities == []


def test_any_key_of_the_valid_shape_is_accepted_by_default(sandbox: SandboxServer) -> None:
    for key in ("pau-x", "seu-other", "xus-123"):
        response = httpx.get(f"{sandbox.url}/me", headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200


def test_a_configured_key_set_refuses_other_keys(make_sandbox: Any) -> None:
    sandbox = make_sandbox(api_keys=[API_KEY])
    assert httpx.get(f"{sandbox.url}/me", headers=AUTH).status_code == 200
    other = {"Authorization": "Bearer pau-other"}
    assert httpx.get(f"{sandbox.url}/me", headers=other).status_code == 401


def test_a_key_can_be_made_invalid_and_valid_again(sandbox: SandboxServer) -> None:
    sandbox.state.set_key_valid(API_KEY, False)
    assert httpx.get(f"{sandbox.url}/me", headers=AUTH).status_code == 401
    sandbox.state.set_key_valid(API_KEY, True)
    assert httpx.get(f"{sandbox.url}/me", headers=AUTH).status_code == 200


def test_audiences_are_found_or_created_by_exact_name(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    first = http.post("/audiences/create", json={"name": "VIP"}).json()
    again = http.post("/audiences/create", json={"name": "VIP"}).json()
    other_case = http.post("/audiences/create", json={"name": "vip"}).json()
    assert first == again
    assert first["name"] == "VIP" and isinstance(first["id"], str) and first["id"]
    assert other_case["id"] != first["id"]
    assert [a["name"] for a in sandbox.state.audiences] == ["VIP", "vip"]
    response = http.post("/audiences/create", json={"name": "  "})
    assert response.status_code == 400
    assert "name" in response.json()["error"]["message"]


def test_items_join_and_leave_audiences(
    sandbox: SandboxServer, http: httpx.Client, activity: Factory, contact: Factory
) -> None:
    audience = http.post("/audiences/create", json={"name": "Buyers"}).json()
    join = contact(1, audience={"mode": "add", "id": audience["id"]})
    other = activity(2, audience={"mode": "add", "id": audience["id"]})
    assert http.post("/identify", json=[join]).json() == {"errors": []}
    assert http.post("/track", json=[other]).json() == {"errors": []}
    members = sandbox.state.audiences[0]["members"]
    assert members == ["user_id:u1", "user_id:u2"]

    leave = contact(3, user_id="u1", audience={"mode": "remove", "id": audience["id"]})
    back = contact(4, user_id="u1", audience={"mode": "add", "id": audience["id"]})
    assert http.post("/identify", json=[leave, back]).json() == {"errors": []}
    # Ortto keeps a contact out for a minute after it left.
    assert sandbox.state.audiences[0]["members"] == ["user_id:u2"]
    assert sandbox.state.stats()["audience_reentries_blocked"] == 1


def test_an_unknown_audience_id_is_refused_per_item(http: httpx.Client, contact: Factory) -> None:
    item = contact(1, audience={"mode": "add", "id": "no-such-audience"})
    errors = http.post("/identify", json=[item]).json()["errors"]
    assert errors == [
        {"status": 400, "message": "audience.id: no audience with this id", "index": 0}
    ]


def test_unknown_paths_and_wrong_methods(sandbox: SandboxServer, http: httpx.Client) -> None:
    missing = http.post("/nothing", json=[])
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not-found"
    wrong = http.get("/track")
    assert wrong.status_code == 405
    assert "POST" in wrong.json()["error"]["message"]
    assert sandbox.state.stats()["bad_requests"] == 2


def test_the_request_log_is_bounded(make_sandbox: Any, activity: Factory) -> None:
    sandbox = make_sandbox(log_size=3)
    with httpx.Client(base_url=sandbox.url, headers=AUTH) as client:
        for number in range(5):
            client.post("/track", json=[activity(number)])
        client.get("/me")
    log = sandbox.state.requests
    assert [entry["seq"] for entry in log] == [4, 5, 6]
    assert log[-1]["path"] == "/v1/me" and log[-1]["status"] == 200
    assert log[0]["outcome"] == "ok" and log[0]["items"] == 1


def test_start_and_stop_on_the_callers_loop(activity: Factory) -> None:
    async def scenario() -> tuple[int, list[dict[str, Any]]]:
        async with SandboxServer(SandboxState()) as server:
            assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/v1")
            async with httpx.AsyncClient(base_url=server.url, headers=AUTH) as client:
                response = await client.post("/track", json=[activity(7)])
            return response.status_code, server.state.activities

    status, stored = asyncio.run(scenario())
    assert status == 200
    assert stored == [activity(7)]
