"""One redrive of a dead-letter topic at a time: a lease held as the membership of a group.

Two redrives of one dead-letter topic would both read the letters not yet resolved and send
them twice (a redrive records its progress per letter, once settled: see ``_redrive.py``). The
lease is the group ``streamer-redrive.<dead-letter topic>``, which no one else uses: a redrive
holds it while it is that group's only live member.

Lifecycle of :class:`RedriveLease`:

1. :meth:`~RedriveLease.acquire`, before the plan is read: refused (a :class:`UsageError`, exit
   status 2, nothing sent) when the group has a live member already, naming it. Otherwise a
   consumer joins the group (subscribed to the dead-letter topic, what it is assigned paused at
   once: it reads nothing) on a thread of its own, and once it is a member the group must have
   exactly one member, itself. Two redrives started in the same instant both see two members
   and both refuse, rather than both run.
2. While held, the thread polls the consumer (``max.poll.interval.ms``: a member that does not
   poll leaves its group), and librdkafka heartbeats.
3. Lost: the coordinator no longer counts the lease's member (no heartbeat for a session: the
   process was paused, or cut off from the cluster), or the member left after too long
   without a poll. Another redrive may hold the lease from then on, so a lost lease is never
   taken back (the consumer may rejoin; it is no longer believed): :attr:`~RedriveLease.lost`
   says why, and the callback given to :meth:`~RedriveLease.watch` is called once, on the
   lease's thread. The command then stops the redrive cleanly (what is in flight is settled
   and recorded) and exits 1; the next redrive sends what this one left.
4. :meth:`~RedriveLease.release`: the consumer closes and leaves the group at once, so the next
   redrive can start. A redrive that is killed holds the lease until its session times out
   (:data:`SESSION_TIMEOUT_MS`).

A dry run sends and records nothing, and takes no lease.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from .._exceptions import KafkaClientError, UsageError
from ..config import KafkaConfig
from ..source import ClusterView, GroupMember, admin_settings, member_names

__all__ = ["MAX_POLL_INTERVAL_MS", "SESSION_TIMEOUT_MS", "RedriveLease", "lease_group"]

SESSION_TIMEOUT_MS = 6_000
"""How long a killed redrive keeps the lease: the brokers' lowest session timeout by default
(``group.min.session.timeout.ms``)."""

_POLL_S = 0.5

MAX_POLL_INTERVAL_MS = 30_000
"""How long the lease's thread may go without a poll before its member leaves the group (it
polls every half second; the redrive's own work holds the GIL for far less)."""


def lease_group(dead_letter_topic: str) -> str:
    """The group whose sole live member holds the lease on ``dead_letter_topic``."""
    return f"streamer-redrive.{dead_letter_topic}"


class RedriveLease:
    def __init__(self, kafka: KafkaConfig, *, join_timeout_s: float = 30.0) -> None:
        self._kafka = kafka
        self.group = lease_group(kafka.dead_letter_topic)
        self._join_timeout = join_timeout_s
        self._joined = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._member_id = ""
        self._error: BaseException | None = None
        self._last_error = "no answer from the coordinator"
        self._lost: str | None = None
        self._on_lost: Callable[[str], None] | None = None
        self._lost_lock = threading.Lock()

    @property
    def lost(self) -> str | None:
        """Why the lease was lost while held, or ``None``."""
        return self._lost

    def watch(self, on_lost: Callable[[str], None] | None) -> None:
        """Call ``on_lost(reason)`` once when the lease is lost (at once if it is already);
        ``None`` stops watching. It is called on the lease's thread: hand it on thread-safely."""
        with self._lost_lock:
            self._on_lost = on_lost
            reason = self._lost
        if on_lost is not None and reason is not None:
            on_lost(reason)

    def acquire(self, view: ClusterView) -> None:
        """Hold the lease, or raise :class:`UsageError` naming who holds it."""
        self._refuse_if_held(view.members(self.group))
        self._thread = threading.Thread(target=self._hold, name="redrive lease", daemon=True)
        self._thread.start()
        if not self._joined.wait(self._join_timeout) or self._error is not None:
            self.release()
            raise KafkaClientError(
                f"cannot join group {self.group!r} (the redrive lease) within "
                f"{self._join_timeout:g} s: {self._error or self._last_error}")
        others = [m for m in view.members(self.group) if m.member_id != self._member_id]
        if others:
            self.release()
            self._refuse_if_held(others)

    def release(self) -> None:
        """Leave the group (at once: the next redrive may start); idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> RedriveLease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _refuse_if_held(self, members: list[GroupMember]) -> None:
        if not members:
            return
        holders = member_names(members)
        raise UsageError(
            f"another redrive of {self._kafka.dead_letter_topic!r} is running (group "
            f"{self.group!r} has {len(members)} live member(s): {holders}); refused, nothing "
            f"sent. A redrive that was killed holds it for {SESSION_TIMEOUT_MS // 1000} s more")

    # -- on the lease's thread: the consumer is used from here only --------------------------

    def _hold(self) -> None:
        try:
            consumer = Consumer(self._settings())
        except KafkaException as exc:
            self._error = exc
            self._joined.set()
            return
        try:
            consumer.subscribe([self._kafka.dead_letter_topic], on_assign=self._assigned,
                               on_lost=self._assignment_lost)
            while not self._stop.is_set():
                message = consumer.poll(_POLL_S)
                error = message.error() if message is not None else None
                if error is None:
                    continue
                if not self._joined.is_set():
                    # Said if the join times out; a refusal (an ACL) ends the wait at once.
                    self._error = None if error.retriable() else KafkaException(error)
                    self._last_error = str(error)
                    if self._error is not None:
                        self._joined.set()
                elif error.code() == KafkaError._MAX_POLL_EXCEEDED:
                    self._mark_lost(
                        f"its member left group {self.group!r} after "
                        f"{MAX_POLL_INTERVAL_MS // 1000} s without a poll")
        except KafkaException as exc:
            self._error = exc
            self._joined.set()
        finally:
            consumer.close()

    def _assigned(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        # Called on every join, with no partitions too (a second member of a one-partition
        # topic). Nothing is read: the lease is the membership.
        consumer.assign(partitions)
        if partitions:
            consumer.pause(partitions)
        self._member_id = consumer.memberid() or ""
        self._joined.set()

    def _assignment_lost(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        self._mark_lost(
            f"group {self.group!r} no longer counts this redrive as its member: no heartbeat "
            f"reached the coordinator for a session ({SESSION_TIMEOUT_MS // 1000} s; the "
            "process was paused or cut off from the cluster)")

    def _mark_lost(self, reason: str) -> None:
        """Take the lease as lost, once; the first reason stays."""
        if not self._joined.is_set():
            return  # not held yet: acquire() says what went wrong
        with self._lost_lock:
            if self._lost is not None:
                return
            self._lost = reason
            on_lost = self._on_lost
        if on_lost is not None:
            on_lost(reason)

    def _settings(self) -> dict[str, Any]:
        return {
            **admin_settings(self._kafka),
            "group.id": self.group,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "partition.assignment.strategy": "range",
            "session.timeout.ms": SESSION_TIMEOUT_MS,
            "heartbeat.interval.ms": SESSION_TIMEOUT_MS // 3,
            "max.poll.interval.ms": MAX_POLL_INTERVAL_MS,
        }
