"""``streamer offsets reset``: move the live group (``kafka.group_id``) to a chosen point.

First a plan, per partition ``from`` (the committed offset, or none) and ``to``; it changes
nothing. With ``execute`` the plan is committed for the group, which must have no live member
(a running consumer would overwrite the offsets with its own at its next commit, and the broker
refuses to alter a group in use anyway). Targets: the earliest offset still in the log, the
end, the first record at or after a time (the end when none is that recent), or given offsets
(each inside the partition: first offset to end).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import UsageError
from ..config import KafkaConfig
from ..source import ClusterView

__all__ = ["ResetTarget", "execute_reset", "plan_reset"]


@dataclass(frozen=True, slots=True)
class ResetTarget:
    earliest: bool = False
    latest: bool = False
    timestamp_ms: int | None = None
    offsets: Mapping[int, int] = field(default_factory=dict)
    """Partition -> offset; only these partitions move."""


def plan_reset(
    view: ClusterView, kafka: KafkaConfig, target: ResetTarget, topics: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Per partition ``{"topic", "partition", "from", "to"}``; raises :class:`UsageError`."""
    chosen = list(topics) or list(kafka.topics)
    if target.offsets and len(chosen) > 1:
        raise UsageError("--to-offset P=N names partitions of one topic: add --topic "
                         f"(configured: {', '.join(chosen)})")
    plan: list[dict[str, Any]] = []
    problems: list[str] = []
    for topic in chosen:
        numbers = view.partitions(topic)
        unknown = sorted(set(target.offsets) - set(numbers))
        if unknown:
            raise UsageError(f"topic {topic!r} has no partition "
                             f"{', '.join(map(str, unknown))} (it has {len(numbers)})")
        if target.offsets:
            numbers = sorted(target.offsets)
        ends = view.watermarks(topic, numbers)
        committed = view.committed(kafka.group_id, topic)
        if target.timestamp_ms is not None:
            wanted = view.offsets_for_time(topic, numbers, target.timestamp_ms)
        elif target.earliest:
            wanted = {p: ends[p][0] for p in numbers}
        elif target.latest:
            wanted = {p: ends[p][1] for p in numbers}
        else:
            wanted = dict(target.offsets)
        for p in numbers:
            low, high = ends[p]
            if not low <= wanted[p] <= high:
                problems.append(f"{topic}[{p}]: offset {wanted[p]} is outside the partition: it "
                                f"holds offsets {low} to {high} (end exclusive)")
            plan.append({"topic": topic, "partition": p, "from": committed.get(p),
                         "to": wanted[p]})
    if problems:
        raise UsageError("cannot reset:\n  " + "\n  ".join(problems))
    return plan


def execute_reset(view: ClusterView, kafka: KafkaConfig, plan: list[dict[str, Any]]) -> None:
    """Commit ``plan`` for the group; refused while the group has live members."""
    view.refuse_if_in_use(kafka.group_id, "an offset reset")
    by_topic: dict[str, dict[int, int]] = {}
    for step in plan:
        by_topic.setdefault(step["topic"], {})[step["partition"]] = step["to"]
    for topic, offsets in by_topic.items():
        view.set_offsets(kafka.group_id, topic, offsets)
