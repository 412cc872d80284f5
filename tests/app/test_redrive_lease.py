"""One redrive of a dead-letter topic at a time, on a real broker: the lease and its refusals."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from streamer._exceptions import UsageError
from streamer.app import RedriveLease, lease_group
from streamer.app._redrive_lease import SESSION_TIMEOUT_MS
from streamer.config import KafkaConfig
from streamer.source import ClusterView
from streamer.testing import KafkaCluster, wait_until


def _kafka(broker: KafkaCluster, dead: str) -> KafkaConfig:
    return KafkaConfig(bootstrap_servers=broker.bootstrap_servers, topics=["events"],
                       dead_letter_topic=dead)


def test_a_second_redrive_is_refused_while_the_first_holds_the_lease(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> None:
    dead = new_topic(partitions=1)
    kafka = _kafka(kafka_broker, dead)
    with ClusterView(kafka) as view:
        first = RedriveLease(kafka)
        first.acquire(view)
        try:
            assert len(view.members(lease_group(dead))) == 1
            second = RedriveLease(kafka)
            with pytest.raises(UsageError) as refused:
                second.acquire(view)
            message = str(refused.value)
            assert f"another redrive of {dead!r} is running" in message
            assert lease_group(dead) in message and "nothing sent" in message
            assert len(view.members(lease_group(dead))) == 1  # the first one still holds it
        finally:
            first.release()
        # Released: it left the group at once, and the next redrive takes the lease.
        wait_until(lambda: view.members(lease_group(dead)) == [], "the lease group is empty")
        with RedriveLease(kafka) as third:
            third.acquire(view)
            assert len(view.members(lease_group(dead))) == 1
        wait_until(lambda: view.members(lease_group(dead)) == [], "the third lease is released")


def test_leases_are_per_dead_letter_topic(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> None:
    one, other = new_topic(partitions=1), new_topic(partitions=3)
    with (ClusterView(_kafka(kafka_broker, one)) as view,
          RedriveLease(_kafka(kafka_broker, one)) as a,
          RedriveLease(_kafka(kafka_broker, other)) as b):
        a.acquire(view)
        b.acquire(view)  # another topic's redrive is not refused
        assert len(view.members(lease_group(one))) == 1
        assert len(view.members(lease_group(other))) == 1


def test_redrives_started_together_never_both_hold_the_lease(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> None:
    dead = new_topic(partitions=2)
    kafka = _kafka(kafka_broker, dead)
    leases = [RedriveLease(kafka) for _ in range(3)]
    held: list[RedriveLease] = []
    refused: list[str] = []
    start = threading.Barrier(len(leases))

    def take(lease: RedriveLease) -> None:
        with ClusterView(kafka) as view:
            start.wait()
            try:
                lease.acquire(view)
            except UsageError as exc:
                refused.append(str(exc))
            else:
                held.append(lease)

    threads = [threading.Thread(target=take, args=(lease,)) for lease in leases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    try:
        # Whoever came last saw the others; in a tie all refuse. Never two at once.
        assert len(held) <= 1
        assert len(held) + len(refused) == len(leases)
        assert all("another redrive" in message for message in refused)
    finally:
        for lease in held:
            lease.release()


def test_a_lease_that_cannot_join_says_why_and_holds_nothing(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> None:
    from streamer._exceptions import KafkaClientError

    dead = new_topic(partitions=1)
    broken = KafkaConfig(bootstrap_servers=kafka_broker.bootstrap_servers, topics=["events"],
                         dead_letter_topic=dead, consumer={"socket.timeout.ms": "soon"})
    with ClusterView(_kafka(kafka_broker, dead)) as view:
        lease = RedriveLease(broken, join_timeout_s=20)
        with pytest.raises(KafkaClientError) as failed:
            lease.acquire(view)
        assert f"cannot join group {lease_group(dead)!r}" in str(failed.value)
        assert "socket.timeout.ms" in str(failed.value)
        assert view.members(lease_group(dead)) == []
        lease.release()  # idempotent


def test_a_lost_lease_is_said_once_and_never_taken_back(
    kafka_broker: KafkaCluster, new_topic: Callable[..., str]
) -> None:
    # The consumer's own paths to a loss (a session without heartbeats, a poll too late) are
    # driven by a paused process in tests/cli/test_redrive_cli.py; here, what a loss does.
    dead = new_topic(partitions=1)
    kafka = _kafka(kafka_broker, dead)
    early = RedriveLease(kafka)
    early._mark_lost("before the join")  # nothing held yet: acquire() speaks for itself
    assert early.lost is None
    seen: list[str] = []
    with ClusterView(kafka) as view, RedriveLease(kafka) as lease:
        lease.acquire(view)
        lease.watch(seen.append)
        assert lease.lost is None and seen == []
        lease._assignment_lost(None, [])
        lease._mark_lost("a second reason")
        assert seen == [lease.lost]
        assert lease.lost is not None and "no heartbeat" in lease.lost
        assert f"for a session ({SESSION_TIMEOUT_MS // 1000} s;" in lease.lost
        late: list[str] = []
        lease.watch(late.append)  # watching a lease already lost: told at once
        assert late == seen
        lease.watch(None)
        # Still a member (its consumer rejoins on its own), but no longer believed.
        assert len(view.members(lease_group(dead))) == 1 and lease.lost == seen[0]
