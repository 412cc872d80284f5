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

from ._harness import Scenario, scenario

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(300)]

# The pace before the refusal: each request waits 0.2 s and each endpoint has one request of at
# most 50 items in flight, so at most 2 x 50 / 0.2 = 500 items a second reach the sandbox on the
# fastest machine. The refusal, made once half of the first events are delivered, thus comes
# seconds before the rest could be.
PACED = {"rules": [{"kind": "delay", "seconds": 0.2, "endpoints": ["track", "identify"]}]}
FIRST = 2_000


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
                  sandbox=SandboxState(ban=False, faults=PACED)) as run:
        events = run.produce_events(FIRST, seed=17)
        # A read timeout far above the sandbox's delay: an answer is never lost to a busy
        # machine (its items stored, the client gone), so the commits always catch up.
        with run.process("streamer", batching={"max_items": 50},
                         delivery={"max_in_flight": 1}, ortto={"read_timeout_s": 30.0},
                         metrics={"port": port, "host": "127.0.0.1"}) as streamer:
            streamer.start()
            run.wait(lambda: _ready(port) is True, 60, alive=[streamer], what="ready")
            run.wait(lambda: run.delivered_count() >= FIRST // 2, 60, alive=[streamer],
                     what="half of the first events delivered")
            run.state.set_faults({"rules": [{"kind": "unauthorized"}]})
            # More events after the refusal: new work must wait too.
            events += run.produce_events(6_000, seed=18)
            run.wait(lambda: _ready(port) is False, 30, alive=[streamer], what="unready")

            # While the key is refused: nothing more is accepted, nothing is dead-lettered,
            # and the commits never pass what Ortto confirmed (checked on every round).
            # Requests that passed the sandbox's gate before the refusal still complete, and
            # what they delivered is committed: wait until the sandbox has answered every
            # request it received and the commits have caught up with what it accepted. From
            # then on nothing may move, however long we watch.
            run.wait(lambda: run.sandbox_in_flight() == 0 and _committed_up_to(run),
                     60, alive=[streamer], what="the commits to catch up with the sandbox")
            delivered_then, committed_then = len(run.delivered_ids()), run.committed()
            deadline = time.monotonic() + 4.0
            while time.monotonic() < deadline:
                run.check_commit_safety()
                assert _ready(port) is False
                time.sleep(0.5)
            assert len(run.delivered_ids()) == delivered_then
            assert delivered_then < FIRST, "the refusal came after the work it should pause"
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
    # Paced: each request waits 0.2 s, one request of at most 50 items in flight per endpoint
    # and process: at most 2 x 2 x 50 / 0.2 = 1,000 items a second on the fastest machine, so
    # the kill at a quarter of the work comes seconds before half of it is done.
    paced = {"rules": [{"kind": "delay", "seconds": 0.2, "endpoints": ["track", "identify"]}]}
    with scenario(kafka_broker, new_topic, tmp_path, partitions=6,
                  sandbox=SandboxState(ban=False, faults=paced)) as run:
        sections = {"batching": {"max_items": 50}, "delivery": {"max_in_flight": 1}}
        with run.process("first", **sections) as first, \
                run.process("second", **sections) as second:
            first.start()
            second.start()
            # Both members hold partitions before any event exists, so both have work.
            run.wait(lambda: _owns_partitions(first) and _owns_partitions(second), 60,
                     alive=[first, second], what="both members assigned")
            events = run.produce_events(12_000, seed=23)
            run.wait(lambda: run.delivered_count() >= len(events) // 4, 120,
                     alive=[first, second], what="a quarter of the events delivered")
            fraction = run.delivered_count() / len(events)
            first.kill()
            # Killed in the middle of its work: the survivor has the dead member's rest to do.
            assert fraction < 0.5, f"the kill meant for 25% came at {fraction:.1%}"
            run.check_commit_safety()
            run.wait(run.all_committed, 180, alive=[second], what="every offset committed")
            assert second.terminate() == 0
        assert run.violations == []
        assert run.dead_letters() == []
        assert run.delivered_ids() == {e["messageId"] for e in events}
        assert second.log_path.read_text().count("assigned [(") >= 2, (
            "the survivor was never given the dead member's partitions"
        )
        print(f"\nsurvivor: first member killed at {fraction:.1%} of the events delivered, "
              f"slowest polling round {run.slowest_round:.2f}s")


def _committed_up_to(run: Scenario) -> bool:
    """The group committed exactly what the sandbox accepted (its partitions' done prefix)."""
    committed = run.committed()
    return all(committed.get(p, 0) == done for p, done in run.done_prefix().items())


def _owns_partitions(process: StreamerProcess) -> bool:
    return "assigned [(" in process.log_path.read_text()
