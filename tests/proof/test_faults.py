"""Proof under faults: 20,000 events through a failing sandbox, with and without SIGKILLs.

The sandbox fails 10% of requests with 503, 5% with 429 (``Retry-After``), hangs 2% past the
client's read timeout, and refuses 1% of items with a 400. The item refusals are *sticky* (drawn
from a hash of the item), so an item sent again after a restart gets the same answer: its fate
belongs to the item, and "delivered or dead-lettered, never both" can be checked exactly.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from streamer.sandbox import SandboxState
from streamer.testing import KafkaCluster

from ._harness import Scenario, scenario

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(420)]

EVENTS = 20_000
ITEM_MESSAGE = "email is not valid (injected)"
FAULTS: dict[str, Any] = {
    "seed": 2026,
    "rules": [
        {"kind": "hang", "rate": 0.02, "endpoints": ["track", "identify"]},
        {"kind": "request_error", "status": 503, "rate": 0.10,
         "endpoints": ["track", "identify"]},
        {"kind": "rate_limit", "rate": 0.05, "retry_after": 1,
         "endpoints": ["track", "identify"]},
        {"kind": "item_error", "status": 400, "rate": 0.01, "sticky": True,
         "message": ITEM_MESSAGE, "endpoints": ["track", "identify"]},
    ],
}


def _check_fates(run: Scenario, events: list[dict[str, Any]], *, kills: int) -> dict[str, int]:
    delivered = run.delivered_ids()
    records = run.dead_letters()
    dead = run.dead_ids(records)
    dead_ids = {run.ids_at[position] for position in dead}
    produced = {e["messageId"] for e in events}

    assert run.violations == []
    assert delivered | dead_ids == produced, "an event is neither delivered nor dead-lettered"
    assert not delivered & dead_ids, "an event is both delivered and dead-lettered"
    assert delivered <= produced and dead_ids <= produced
    for record in records:
        assert record.header("streamer.stage") == b"deliver"
        assert record.header("streamer.reason") == b"rejected"
        assert record.header("streamer.status") == b"400"
        assert record.header("streamer.message") == ITEM_MESSAGE.encode()
        position = (int(record.header("streamer.source.partition") or b"-1"),
                    int(record.header("streamer.source.offset") or b"-1"))
        assert record.header("streamer.message_id") == run.ids_at[position].encode()
    # ~1% of items are refused: a plan that refused none or far more would prove nothing.
    assert EVENTS * 0.005 < len(dead_ids) < EVENTS * 0.02
    duplicates = len(records) - len(dead)
    if kills == 0:
        assert duplicates == 0, "a dead letter was written twice without any restart"
    stats = run.state.stats()
    answers: dict[str, int] = {}
    for endpoint in ("track", "identify"):
        for status, count in stats["endpoints"][endpoint]["statuses"].items():
            answers[status] = answers.get(status, 0) + count
    # The plan was really applied: each kind of failure happened.
    assert answers.get("503", 0) > 0 and answers.get("429", 0) > 0
    assert any(rule["kind"] == "hang" and rule["fired"] > 0 for rule in stats["faults"])
    return {"delivered": len(delivered), "dead": len(dead_ids), "dead_duplicates": duplicates,
            "activity_duplicates": stats["activity_duplicates"], **answers}


def test_twenty_thousand_events_through_faults(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    with scenario(kafka_broker, new_topic, tmp_path, partitions=4,
                  sandbox=SandboxState(ban=False, faults=FAULTS)) as run:
        events = run.produce_events(EVENTS, seed=41)
        with run.process("streamer") as streamer:
            streamer.start()
            run.wait(run.all_committed, 240, alive=[streamer], what="every offset committed")
            assert streamer.terminate() == 0
        run.check_commit_safety()
        figures = _check_fates(run, events, kills=0)
        print(f"\nfaults, no kills: {figures}")


def test_twenty_thousand_events_through_faults_and_three_sigkills(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    rng = random.Random(7)
    with scenario(kafka_broker, new_topic, tmp_path, partitions=4,
                  sandbox=SandboxState(ban=False, faults=FAULTS)) as run:
        events = run.produce_events(EVENTS, seed=43)
        # Static membership: a restarted process takes its partitions back at once instead of
        # waiting out the dead member's session.
        config = {"consumer": {"group.instance.id": "proof-sigkill"}}
        with run.process("streamer", kafka=config) as streamer:
            kills = 0
            while kills < 3:
                streamer.start()
                before = len(run.delivered_ids())
                # Let it make some progress, then kill it at a random moment after that.
                run.wait(lambda before=before: len(run.delivered_ids()) > before + 300, 120,
                         alive=[streamer], what="progress before a kill")
                time.sleep(rng.uniform(0.0, 0.8))
                if run.all_committed():
                    break  # finished before the kill: nothing left to prove with it
                streamer.kill()
                kills += 1
                run.check_commit_safety()
            if not streamer.running:
                streamer.start()
            run.wait(run.all_committed, 240, alive=[streamer], what="every offset committed")
            assert streamer.terminate() == 0
        assert kills == 3, f"only {kills} kills happened before the work was done"
        run.check_commit_safety()
        figures = _check_fates(run, events, kills=kills)
        print(f"\nfaults and {kills} SIGKILLs: {figures}")
