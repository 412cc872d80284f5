"""Proof under faults: 20,000 events through a failing sandbox, with and without SIGKILLs.

The sandbox fails 10% of requests with 503, 5% with 429 (``Retry-After``), hangs 2% past the
client's read timeout, and refuses 1% of items with a 400. The item refusals are *sticky* (drawn
from a hash of the item), so an item sent again after a restart gets the same answer: its fate
belongs to the item, and "delivered or dead-lettered, never both" can be checked exactly.

The SIGKILLs come at fractions of the work delivered (15%, 40%, 65%), with the sandbox paced
(a ``delay`` on every request, two requests in flight per endpoint) so that each kill finds the
run in the middle of its work on a fast machine as on a loaded one.
"""

from __future__ import annotations

import math
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


# Kills: each once at least the first fraction of the events is delivered (distinct items the
# sandbox stored), and necessarily before the second: the run must still be in the middle of
# its work, whatever the machine's speed.
KILLS = ((0.15, 0.40), (0.40, 0.65), (0.65, 0.90))
# The pace that makes every kill fit: each track/identify request waits PACE_SECONDS at the
# sandbox, and each endpoint has at most PACED_IN_FLIGHT requests of at most PACED_ITEMS items in
# flight. At most 2 x 2 x 50 / 0.2 = 1,000 distinct items a second reach the sandbox on the
# fastest machine, so the 25% between two kill points (5,000 items) lasts 5 s or more: long
# against one polling round (0.2 s plus a check of a fraction of a second, reported) and a kill.
# A slow machine is slower still.
PACE_SECONDS = 0.2
PACED_ITEMS = 50
PACED_IN_FLIGHT = 2
PACED: dict[str, Any] = {
    "seed": FAULTS["seed"],
    "rules": [{"kind": "delay", "seconds": PACE_SECONDS, "endpoints": ["track", "identify"]},
              *FAULTS["rules"]],
}


def _delivered(run: Scenario, fraction: float) -> Callable[[], bool]:
    target = math.ceil(fraction * EVENTS)
    return lambda: run.delivered_count() >= target


def _check_fates(run: Scenario, events: list[dict[str, Any]], *, kills: int) -> dict[str, int]:
    delivered = run.delivered_ids()
    records = run.dead_letters()
    dead = run.dead_ids(records)
    dead_ids = {run.ids_at[position] for position in dead}
    produced = {e["messageId"] for e in events}

    assert run.violations == []
    assert run.delivered_count() == len(delivered), "the progress counter is not the distinct view"
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
    with scenario(kafka_broker, new_topic, tmp_path, partitions=4,
                  sandbox=SandboxState(ban=False, faults=PACED)) as run:
        events = run.produce_events(EVENTS, seed=43)
        # Static membership: a restarted process takes its partitions back at once instead of
        # waiting out the dead member's session.
        sections: dict[str, dict[str, Any]] = {
            "kafka": {"consumer": {"group.instance.id": "proof-sigkill"}},
            "batching": {"max_items": PACED_ITEMS},
            "delivery": {"max_in_flight": PACED_IN_FLIGHT},
        }
        reached: list[float] = []
        started = time.monotonic()
        with run.process("streamer", **sections) as streamer:
            for at_least, before in KILLS:
                streamer.start()
                run.wait(_delivered(run, at_least), 180, alive=[streamer],
                         what=f"{at_least:.0%} of the events delivered")
                fraction = run.delivered_count() / EVENTS
                streamer.kill()
                reached.append(fraction)
                assert fraction < before, (
                    f"the kill meant for {at_least:.0%} came at {fraction:.1%}: the sandbox's "
                    f"pace no longer leaves room for it"
                )
                run.check_commit_safety()
            streamer.start()
            run.wait(run.all_committed, 240, alive=[streamer], what="every offset committed")
            assert streamer.terminate() == 0
        seconds = time.monotonic() - started
        assert len(reached) == len(KILLS)
        run.check_commit_safety()
        figures = _check_fates(run, events, kills=len(reached))
        print(f"\nfaults and {len(reached)} SIGKILLs at "
              f"{', '.join(f'{f:.1%}' for f in reached)} of the events delivered, "
              f"{seconds:.0f}s, slowest polling round {run.slowest_round:.2f}s: {figures}")
