"""``streamer status``: where the live group stands, and what waits in the dead-letter topic.

Per partition of ``kafka.topics``: the group's committed offset, the partition's end, the lag in
messages and in seconds (now minus the timestamp of the next unread message, read by assignment
at the committed offset), and which member holds it. Then the dead-letter topic over the last
24 hours (found by offsets-for-times), at most 100,000 records: unresolved letters counted by
stage and reason (see :mod:`streamer.deadletter._resolution` for what resolved means), and
whether the count was capped. Only reads; nothing joins the group or commits.
"""

from __future__ import annotations

import time
from typing import Any

from ..config import KafkaConfig
from ..deadletter import LetterScan, identity_of
from ..source import ClusterView

__all__ = ["DEAD_LETTER_CAP", "DEAD_LETTER_WINDOW_S", "dead_letter_summary", "group_status"]

DEAD_LETTER_WINDOW_S = 24 * 3600
DEAD_LETTER_CAP = 100_000


def group_status(
    view: ClusterView, kafka: KafkaConfig, *, now_ms: int | None = None,
    window_s: int = DEAD_LETTER_WINDOW_S, cap: int = DEAD_LETTER_CAP,
) -> dict[str, Any]:
    """The status document (``streamer status --json`` prints it as is)."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    group = kafka.group_id
    members = view.members(group)
    holder = {tp: m.member_id for m in members for tp in m.assignment}
    partitions: list[dict[str, Any]] = []
    for topic in kafka.topics:
        numbers = view.partitions(topic)
        ends = view.watermarks(topic, numbers)
        committed = view.committed(group, topic)
        for p in numbers:
            low, high = ends[p]
            done = committed.get(p)
            # Never committed: the group starts at the log's first offset (auto.offset.reset).
            position = max(low, done if done is not None else low)
            lag = max(0, high - position)
            lag_s = None
            if lag:
                found = view.read_one(topic, p, position)
                if found is not None:
                    lag_s = round(max(0, now - found[1]) / 1000.0, 3)
            partitions.append({
                "topic": topic, "partition": p, "committed": done, "end": high,
                "lag": lag, "lag_seconds": lag_s if lag else 0.0,
                "member": holder.get((topic, p)),
            })
    return {
        "group": group,
        "members": [{"member_id": m.member_id, "client_id": m.client_id, "host": m.host,
                     "assignment": [{"topic": t, "partition": p} for t, p in m.assignment]}
                    for m in members],
        "partitions": partitions,
        "lag": sum(p["lag"] for p in partitions),
        "dead_letters": dead_letter_summary(
            view, kafka.dead_letter_topic, since_ms=now - window_s * 1000, cap=cap),
    }


def dead_letter_summary(
    view: ClusterView, topic: str, *, since_ms: int, cap: int = DEAD_LETTER_CAP
) -> dict[str, Any]:
    """Unresolved dead letters of ``topic`` written since ``since_ms``, by stage and reason."""
    numbers = view.partitions(topic)
    starts = view.offsets_for_time(topic, numbers, since_ms)
    ends = {p: high for p, (_, high) in view.watermarks(topic, numbers).items()}
    scan = LetterScan()
    letters = [(identity_of(record), record["stage"], record["reason"])
               for _, record in scan.letters(view.scan(topic, starts, ends, limit=cap))]
    read = scan.read
    counts: dict[str, dict[str, int]] = {}
    unresolved = 0
    for identity, stage, reason in letters:
        if identity in scan.resolved:
            continue
        unresolved += 1
        per_stage = counts.setdefault(stage, {})
        per_stage[reason] = per_stage.get(reason, 0) + 1
    return {
        "topic": topic, "since_ms": since_ms, "records_read": read,
        "capped": read >= cap, "cap": cap, "unresolved": unresolved,
        "resolved": len(letters) - unresolved, "by_stage": counts,
    }
