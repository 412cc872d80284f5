"""A key that goes bad mid-run, and a consumer group that loses a member."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from streamer.sandbox import SandboxState
from streamer.testing import KafkaCluster, StreamerProcess

from ._harness import scenario

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(300)]

# A little latency per request so that the runs last long enough to be interrupted.
SLOW = {"rules": [{"kind": "delay", "seconds": 0.02, "endpoints": ["track", "identify"]}]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ready(port: int) -> bool | None:
    """True/False from /readyz; None while the server does not answer yet."""
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return None


def test_a_key_that_goes_bad_pauses_everything_and_recovers(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    port = _free_port()
    with scenario(kafka_broker, new_topic, tmp_path, partitions=3,
                  sandbox=SandboxState(ban=False, faults=SLOW)) as run:
        events = run.produce_events(2_000, seed=17)
        with run.process("streamer", batching={"max_items": 50},
                         metrics={"port": port, "host": "127.0.0.1"}) as streamer:
            streamer.start()
            run.wait(lambda: _ready(port) is True, 60, alive=[streamer], what="ready")
            run.wait(lambda: len(run.delivered_ids()) > 1_000, 60, alive=[streamer],
                     what="some delivery")
            run.state.set_faults({"rules": [{"kind": "unauthorized"}]})
            # More events after the refusal, so there is work whatever the machine's speed.
            events += run.produce_events(6_000, seed=18)
            run.wait(lambda: _ready(port) is False, 30, alive=[streamer], what="unready")

            # While the key is refused: nothing more is accepted, nothing is dead-lettered,
            # and the commits never pass what Ortto confirmed (checked on every round).
            # Requests that passed the sandbox's gate before the refusal still complete (and may
            # be committed): wait until nothing moves, whatever the machine's load.
            delivered_then, committed_then = -1, run.committed()
            settle_deadline = time.monotonic() + 30
            while time.monotonic() < settle_deadline:
                time.sleep(1.0)
                delivered_now, committed_now = len(run.delivered_ids()), run.committed()
                if (delivered_now, committed_now) == (delivered_then, committed_then):
                    break
                delivered_then, committed_then = delivered_now, committed_now
            deadline = time.monotonic() + 4.0
            while time.monotonic() < deadline:
                run.check_commit_safety()
                assert _ready(port) is False
                time.sleep(0.5)
            assert len(run.delivered_ids()) == delivered_then
            assert run.committed() == committed_then
            assert run.dead_letters() == []
            assert not run.all_committed()

            run.state.clear_faults()
            run.wait(run.all_committed, 120, alive=[streamer], what="every offset committed")
            assert _ready(port) is True
            assert streamer.terminate() == 0
        assert run.violations == []
        assert run.dead_letters() == []
        assert run.delivered_ids() == {e["messageId"] for e in events}
        print(f"\nbad key: {delivered_then} delivered before the refusal, "
              f"committed then {committed_then}, all {len(events)} delivered after")


def test_the_survivor_of_a_group_takes_over_and_nothing_is_lost(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    slower = {"rules": [{"kind": "delay", "seconds": 0.1, "endpoints": ["track", "identify"]}]}
    with scenario(kafka_broker, new_topic, tmp_path, partitions=6,
                  sandbox=SandboxState(ban=False, faults=slower)) as run:
        sections = {"batching": {"max_items": 50}, "delivery": {"max_in_flight": 2}}
        with run.process("first", **sections) as first, \
                run.process("second", **sections) as second:
            first.start()
            second.start()
            # Both members hold partitions before any event exists, so both have work.
            run.wait(lambda: _owns_partitions(first) and _owns_partitions(second), 60,
                     alive=[first, second], what="both members assigned")
            events = run.produce_events(12_000, seed=23)
            run.wait(lambda: len(run.delivered_ids()) > 2_000, 60, alive=[first, second],
                     what="some delivery")
            assert not run.all_committed()
            first.kill()
            run.check_commit_safety()
            run.wait(run.all_committed, 180, alive=[second], what="every offset committed")
            assert second.terminate() == 0
        assert run.violations == []
        assert run.dead_letters() == []
        assert run.delivered_ids() == {e["messageId"] for e in events}
        assert second.log_path.read_text().count("assigned [(") >= 2, (
            "the survivor was never given the dead member's partitions"
        )


def _owns_partitions(process: StreamerProcess) -> bool:
    return "assigned [(" in process.log_path.read_text()
