"""Per-contact order, end to end: a later upsert never overtakes an earlier one.

300 users, 20 identify events each with a trait ``seq`` = 1..20, keyed by user, interleaved as
a live topic would be (every user's first event, then every user's second...). The sandbox
applies each accepted item when its request completes (its ``delay`` comes before the request
is processed) and answers take a random 0-80 ms, as real ones vary. Each user must end on
``seq`` 20: with no failed request, with 503s, 429s and partial answers (items refused with a
retryable 500), and across a SIGKILL and a restart.
With ``delivery.ordering: none`` the same run ends with users on older values (the test can
see what it guards against).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from streamer.sandbox import SandboxState
from streamer.testing import KafkaCluster

from ._harness import Scenario, scenario

pytestmark = pytest.mark.kafka

USERS = 300
UPSERTS = 20
JITTER: dict[str, Any] = {"kind": "delay", "seconds": 0.0, "seconds_max": 0.08,
                          "endpoints": ["identify"]}
FAILING = [
    # Partial answers: 3% of items refused with a retryable 500, retried while the rest land.
    {"kind": "item_error", "status": 500, "rate": 0.03, "endpoints": ["identify"]},
    {"kind": "request_error", "status": 503, "rate": 0.15, "endpoints": ["identify"]},
    {"kind": "rate_limit", "rate": 0.07 / 0.85, "retry_after": 0, "endpoints": ["identify"]},
]


def _produce_upserts(run: Scenario) -> int:
    values: list[bytes] = []
    keys: list[str] = []
    for seq in range(1, UPSERTS + 1):
        for user in range(USERS):
            user_id = f"user-{user:03d}"
            values.append(orjson.dumps({
                "type": "identify", "userId": user_id, "messageId": f"{user_id}-{seq:02d}",
                "timestamp": f"2026-12-01T10:{seq:02d}:00.000Z",
                "traits": {"email": f"{user_id}@example.com", "seq": seq},
            }))
            keys.append(user_id)
    positions = run.broker.produce(run.topic, values, keys=keys)
    homes = {(key, partition) for key, (partition, _offset) in zip(keys, positions, strict=True)}
    assert len(homes) == USERS, "a user's events must share a partition (keyed by user)"
    for value, position in zip(values, positions, strict=True):
        run.ids_at[position] = orjson.loads(value)["messageId"]
    run.ends = run.broker.end_offsets(run.topic)
    return len(values)


def _last_seqs(run: Scenario) -> dict[str, int]:
    profiles = run.state.profiles
    return {identity: profile["traits"]["seq"] for identity, profile in profiles.items()}


def _settings(ordering: str, **delivery: Any) -> dict[str, dict[str, Any]]:
    return {
        "batching": {"max_items": 50, "linger_ms": 20},
        "delivery": {"ordering": ordering, "max_in_flight": 4, **delivery},
    }


def _run_to_the_end(run: Scenario, ordering: str) -> dict[str, int]:
    with run.process("streamer", **_settings(ordering)) as streamer:
        streamer.start()
        run.wait(run.all_committed, 240, alive=[streamer], what="every offset committed")
        assert streamer.terminate() == 0
    run.check_commit_safety()
    assert run.violations == []
    assert run.dead_letters() == []
    return _last_seqs(run)


@pytest.mark.parametrize("failing", [False, True], ids=["no-failures", "503-and-429"])
def test_every_user_ends_on_their_last_upsert(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], tmp_path: Path, failing: bool
) -> None:
    faults = {"seed": 15, "rules": [JITTER, *(FAILING if failing else [])]}
    with scenario(kafka_broker, new_topic, tmp_path, partitions=4,
                  sandbox=SandboxState(ban=False, faults=faults)) as run:
        _produce_upserts(run)
        last = _run_to_the_end(run, "per_contact")
        assert len(last) == USERS
        behind = {user: seq for user, seq in last.items() if seq != UPSERTS}
        assert behind == {}, f"{len(behind)} of {USERS} users ended on an older upsert"
        identify = run.state.stats()["endpoints"]["identify"]["statuses"]
        if failing:  # the plan was applied: each kind of failure happened
            assert identify.get("503", 0) > 0 and identify.get("429", 0) > 0
            fired = {r["kind"]: r["fired"] for r in run.state.stats()["faults"]}
            assert fired["item_error"] > 0


def test_without_ordering_users_end_on_older_upserts(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    # What per_contact guards against, seen by the same observation: this run reorders.
    with scenario(kafka_broker, new_topic, tmp_path, partitions=4,
                  sandbox=SandboxState(ban=False, faults={"seed": 15, "rules": [JITTER]})) as run:
        _produce_upserts(run)
        last = _run_to_the_end(run, "none")
        behind = [user for user, seq in last.items() if seq != UPSERTS]
        print(f"\nordering none: {len(behind)} of {USERS} users ended on an older upsert")
        assert behind


def test_order_holds_across_a_sigkill_and_a_restart(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    # Paced so that the kill finds the run in its middle on any machine: one item per user in
    # flight, 6 requests of 50 per round of 300 users, 2 at a time, each 20-100 ms late.
    faults = {"seed": 16, "rules": [
        {**JITTER, "seconds": 0.02, "seconds_max": 0.1}, *FAILING]}
    with scenario(kafka_broker, new_topic, tmp_path, partitions=4,
                  sandbox=SandboxState(ban=False, faults=faults)) as run:
        total = _produce_upserts(run)
        sections = _settings("per_contact", max_in_flight=2)
        sections["kafka"] = {"consumer": {"group.instance.id": "ordering-sigkill"}}
        with run.process("streamer", **sections) as streamer:
            streamer.start()
            run.wait(lambda: run.delivered_count() >= 0.4 * total, 180, alive=[streamer],
                     every=0.05, what="40% of the upserts delivered")
            streamer.kill()
            fraction = run.delivered_count() / total
            assert fraction < 0.9, f"the kill came at {fraction:.0%}: too late to prove anything"
            run.check_commit_safety()
            started = time.monotonic()
            streamer.start()
            run.wait(run.all_committed, 240, alive=[streamer], what="every offset committed")
            assert streamer.terminate() == 0
        run.check_commit_safety()
        assert run.violations == []
        last = _last_seqs(run)
        assert len(last) == USERS
        behind = {user: seq for user, seq in last.items() if seq != UPSERTS}
        assert behind == {}, f"{len(behind)} of {USERS} users ended on an older upsert"
        print(f"\nkilled at {fraction:.0%} delivered; after the restart "
              f"{time.monotonic() - started:.1f}s to the end")
