"""What the fault-proof tests share: a produced topic, a sandbox, processes, and the checks.

The checks are the promise of streamer, stated on what can be observed from outside:

* fate: every produced event is either in the sandbox's de-duplicated view (activities and
  contacts by ``message_id``) or in the dead-letter topic, never both, never neither;
* commit safety: at any moment, every message below a partition's committed offset is done
  (accepted by the sandbox, or dead-lettered). Sampled while the processes run.

No check depends on the machine's speed: :meth:`Scenario.wait` polls a condition with a generous
timeout, and a test that must act in the middle of the work (a kill, a refusal) acts at a
fraction of the work done (:meth:`Scenario.delivered_count`), while the sandbox's ``delay``
fault and a small ``max_in_flight`` cap the pace, so that what remains after the action is long
compared with one polling round on any machine. One round is cheap (the sandbox's counters, one
admin request, the dead letters read incrementally) and the slowest is reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from streamer.sandbox import SandboxServer, SandboxState
from streamer.testing import (
    ConsumedMessage,
    KafkaCluster,
    StreamerProcess,
    TopicTail,
    sample_events,
)

Position = tuple[int, int]


@dataclass
class Scenario:
    broker: KafkaCluster
    topic: str
    dead_letter_topic: str
    group: str
    sandbox: SandboxServer
    workdir: Path
    ids_at: dict[Position, str] = field(default_factory=dict)
    """``(partition, offset)`` -> the event's messageId (or a poison label)."""
    ends: dict[int, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    slowest_round: float = 0.0
    """The longest polling round of :meth:`wait` (condition and commit-safety check), seconds."""
    _dead_tail: TopicTail | None = None

    @property
    def state(self) -> SandboxState:
        return self.sandbox.state

    # -- input -----------------------------------------------------------------------------

    def produce_events(self, count: int, seed: int) -> list[dict[str, Any]]:
        events = list(sample_events(count, seed=seed, page_share=0.0))
        positions = self.broker.produce(self.topic, [orjson.dumps(e) for e in events])
        for event, position in zip(events, positions, strict=True):
            self.ids_at[position] = event["messageId"]
        self.ends = self.broker.end_offsets(self.topic)
        return events

    def produce_values(self, labelled: dict[str, bytes], **produce: Any) -> None:
        for label, value in labelled.items():
            (position,) = self.broker.produce(self.topic, [value], **produce)
            self.ids_at[position] = label
        self.ends = self.broker.end_offsets(self.topic)

    # -- processes -------------------------------------------------------------------------

    def config(self, **sections: dict[str, Any]) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "kafka": {
                "bootstrap_servers": self.broker.bootstrap_servers,
                "topics": [self.topic],
                "group_id": self.group,
                "start_from": "earliest",
                "dead_letter_topic": self.dead_letter_topic,
                "commit_interval_ms": 200,
                "session_timeout_ms": 6000,
            },
            "ortto": {"api_key": "pau-proof-key", "endpoint": self.sandbox.url,
                      "read_timeout_s": 1.0, "connect_timeout_s": 1.0},
            "batching": {"max_items": 100, "linger_ms": 50},
            "delivery": {"backoff_initial_s": 0.05, "backoff_max_s": 0.5,
                         "retry_budget_s": 120, "shutdown_grace_s": 3.0,
                         "revoke_grace_s": 2.0},
            "metrics": {"port": None},
        }
        for name, values in sections.items():
            raw[name] = {**raw.get(name, {}), **values}
        return raw

    def process(self, name: str, **sections: dict[str, Any]) -> StreamerProcess:
        return StreamerProcess(self.config(**sections), self.workdir, name=name)

    # -- observations ----------------------------------------------------------------------

    def delivered_ids(self) -> set[str]:
        """messageIds in the sandbox's de-duplicated view."""
        state = self.state
        ids = {a["message_id"] for a in state.activities}
        ids.update(c["message_id"] for c in state.contacts if "message_id" in c)
        return ids

    def delivered_count(self) -> int:
        """How many distinct items the sandbox stored (activities and contacts, duplicates
        once): its counters, cheap enough to poll often, unlike :meth:`delivered_ids`."""
        stats = self.state.stats()
        return stats["activities"] + stats["contacts"] - stats["contact_duplicates"]

    def sandbox_in_flight(self) -> int:
        """Requests the sandbox received and has not answered yet."""
        endpoints = self.state.stats()["endpoints"].values()
        return sum(e["requests"] - sum(e["statuses"].values()) for e in endpoints)

    def dead_letters(self, min_count: int = 0) -> list[ConsumedMessage]:
        """Every dead letter written up to now (read incrementally: cheap to call often)."""
        if self._dead_tail is None:
            self._dead_tail = self.broker.tail(self.dead_letter_topic)
        return self._dead_tail.read(min_count=min_count, timeout=5)

    def close(self) -> None:
        if self._dead_tail is not None:
            self._dead_tail.close()
            self._dead_tail = None

    def dead_ids(self, records: list[ConsumedMessage]) -> dict[Position, list[ConsumedMessage]]:
        """Dead-letter records by the source position they came from."""
        by_position: dict[Position, list[ConsumedMessage]] = {}
        for record in records:
            partition = int(record.header("streamer.source.partition") or b"-1")
            offset = int(record.header("streamer.source.offset") or b"-1")
            by_position.setdefault((partition, offset), []).append(record)
        return by_position

    def done_prefix(self) -> dict[int, int]:
        """Per partition, the offset of its first message neither delivered nor dead-lettered:
        what a process that has seen every answer may commit, and no more."""
        delivered = self.delivered_ids()
        dead = set(self.dead_ids(self.dead_letters()))
        prefix = dict.fromkeys(self.ends, 0)
        for (partition, offset), ident in sorted(self.ids_at.items()):
            if offset == prefix[partition] and (
                ident in delivered or (partition, offset) in dead
            ):
                prefix[partition] = offset + 1
        return prefix

    def committed(self) -> dict[int, int]:
        return self.broker.committed_offsets(self.group, self.topic)

    def all_committed(self) -> bool:
        return self.committed() == self.ends

    def check_commit_safety(self) -> None:
        """Every message below a committed offset must be done; record any that is not."""
        committed = self.committed()
        delivered = self.delivered_ids()
        dead = set(self.dead_ids(self.dead_letters()))
        for (partition, offset), ident in self.ids_at.items():
            if offset < committed.get(partition, 0) and ident not in delivered and (
                (partition, offset) not in dead
            ):
                self.violations.append(
                    f"p{partition}@{offset} ({ident}) committed (up to "
                    f"{committed[partition]}) but neither delivered nor dead-lettered"
                )

    def wait(
        self, condition: Callable[[], bool], timeout: float, *, every: float = 0.2,
        alive: Sequence[StreamerProcess] = (),
        what: str = "condition",
    ) -> None:
        """Poll ``condition``, checking commit safety each round; fail on timeout or a death."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            started = time.monotonic()
            self.check_commit_safety()
            met = condition()
            self.slowest_round = max(self.slowest_round, time.monotonic() - started)
            if met:
                return
            for process in alive:
                status = process.exited()
                if status is not None:
                    raise AssertionError(
                        f"{process.name} exited with {status}\n{process.log_tail()}"
                    )
            time.sleep(every)
        tails = "\n".join(f"--- {p.name}\n{p.log_tail()}" for p in alive)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{tails}")


@contextmanager
def scenario(
    broker: KafkaCluster, new_topic: Callable[..., str], workdir: Path, *, partitions: int,
    sandbox: SandboxState | None = None, topic_config: dict[str, str] | None = None,
) -> Iterator[Scenario]:
    topic = new_topic(partitions, config=topic_config)
    dead_letter = new_topic(1)
    server = SandboxServer(sandbox or SandboxState(ban=False))
    with server.run_in_thread() as running:
        run = Scenario(broker, topic, dead_letter, f"{topic}-group", running, workdir)
        try:
            yield run
        finally:
            run.close()
