"""De-duplication, retention and reset: what the sandbox keeps of what it accepted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from streamer.sandbox import SandboxServer, SandboxState

Factory = Callable[..., dict[str, Any]]
ServerFactory = Callable[..., SandboxServer]


def test_activities_are_deduplicated_on_message_id_and_timestamp(
    sandbox: SandboxServer, http: httpx.Client, activity: Factory
) -> None:
    one, two = activity(1), activity(2)
    same_id_other_time = activity(1, timestamp="2026-11-28T12:00:00.000Z")
    assert http.post("/track", json=[one, two, one]).json() == {"errors": []}
    assert http.post("/track", json=[two, same_id_other_time]).json() == {"errors": []}
    assert sandbox.state.activities == [one, two, same_id_other_time]
    assert sandbox.state.duplicates == 2
    stats = sandbox.state.stats()
    assert stats["activities"] == 3
    assert stats["activity_duplicates"] == 2
    assert stats["endpoints"]["track"]["duplicates"] == 2
    assert stats["endpoints"]["track"]["accepted"] == 5


def test_activities_without_both_keys_are_always_stored(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    no_timestamp = {"user_id": "u1", "event": "E", "message_id": "m-1"}
    no_message_id = {"user_id": "u1", "event": "E", "timestamp": "2026-11-28T10:00:00Z"}
    http.post("/track", json=[no_timestamp, no_timestamp, no_message_id, no_message_id])
    assert len(sandbox.state.activities) == 4
    assert sandbox.state.duplicates == 0


def test_contacts_keep_duplicates_but_count_them(
    sandbox: SandboxServer, http: httpx.Client, contact: Factory
) -> None:
    item = contact(1)
    http.post("/identify", json=[item])
    http.post("/identify", json=[item])
    assert sandbox.state.contacts == [item, item]
    stats = sandbox.state.stats()
    assert (stats["contacts"], stats["contact_duplicates"], stats["profiles"]) == (2, 1, 1)


def test_retaining_keys_only_still_counts_and_deduplicates(
    make_sandbox: ServerFactory, auth: dict[str, str], activity: Factory, contact: Factory
) -> None:
    sandbox = make_sandbox(retain="keys")
    with httpx.Client(base_url=sandbox.url, headers=auth) as client:
        client.post("/track", json=[activity(1), activity(1), activity(2)])
        client.post("/identify", json=[contact(1), contact(2), contact(2, message_id="x")])
    state = sandbox.state
    assert state.activities == [] and state.contacts == [] and state.profiles == {}
    stats = state.stats()
    assert (stats["activities"], stats["activity_duplicates"]) == (2, 1)
    assert (stats["contacts"], stats["profiles"]) == (3, 2)
    assert stats["retain"] == "keys"


def test_reset_forgets_what_was_received_but_not_the_audiences(
    make_sandbox: ServerFactory, auth: dict[str, str], activity: Factory
) -> None:
    sandbox = make_sandbox(faults=[{"kind": "request_error", "endpoints": ["me"], "count": 1}])
    state = sandbox.state
    with httpx.Client(base_url=sandbox.url, headers=auth) as client:
        audience = client.post("/audiences/create", json={"name": "A"}).json()
        client.post("/track", json=[activity(1)])
        assert client.get("/me").status_code == 503
        state.set_key_valid("pau-test-key", False)
        assert client.get("/me").status_code == 401

        state.reset()
        assert state.activities == [] and state.requests == []
        assert state.stats()["endpoints"]["track"]["requests"] == 0
        # back to the start-up configuration: the key is valid, the initial plan re-armed
        assert client.get("/me").status_code == 503
        assert client.get("/me").status_code == 200
        # a client that cached the audience id keeps working
        assert client.post("/audiences/create", json={"name": "A"}).json() == audience
        # the same activity is new again
        assert client.post("/track", json=[activity(1)]).json() == {"errors": []}
        assert len(state.activities) == 1

        state.reset(audiences=True)
        assert state.audiences == []
        assert client.post("/audiences/create", json={"name": "A"}).json() != audience


def test_read_back_returns_copies(
    sandbox: SandboxServer, http: httpx.Client, contact: Factory
) -> None:
    http.post("/identify", json=[contact(1)])
    profiles = sandbox.state.profiles
    profiles["user_id:u1"]["traits"]["email"] = "changed"
    sandbox.state.contacts.clear()
    assert sandbox.state.profiles["user_id:u1"]["traits"]["email"] == "user1@example.com"
    assert len(sandbox.state.contacts) == 1


def test_ingest_works_without_http(activity: Factory) -> None:
    state = SandboxState()
    errors = state.ingest("track", [activity(1), {"event": "E"}, activity(1)])
    assert [error["index"] for error in errors] == [1]
    assert len(state.activities) == 1
    assert state.duplicates == 1
