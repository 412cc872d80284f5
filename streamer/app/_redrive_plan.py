"""Which dead letters a redrive sends again: one read of the dead-letter topic, before anything.

The dead-letter topic is read up to its end as it is when the redrive starts (from the first
record at ``since``, when given: a letter's resolution always comes after it, so nothing
resolved is missed). Each letter is kept or left, and the reason counted:

- ``resolved``: an earlier redrive handled it (a resolution record names its identity);
- ``filtered_out``: a filter (stage, reason, subscription, since, until) does not match it;
  it stays available to a later run;
- ``max_redrives``: it was redriven ``max_redrives`` times already;
- ``unknown_subscription``: the subscription it names is not configured any more;
- ``value_truncated``: only the first bytes of its value were kept, there is nothing to resend;
- ``duplicate``: another letter has the same identity (the same message and subscription,
  dead-lettered twice by the live group): it is resolved with that one.

What is kept is grouped by the subscription that will map it: the one the letter names, or,
for a letter of stage ``decode``, every subscription (``""``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..config import Config
from ..deadletter import DeadLetterIdentity, LetterScan, identity_of
from ..source import ClusterView
from ._replay import configured_subscriptions

__all__ = ["Letter", "RedriveFilters", "RedrivePlan", "plan_redrive"]


@dataclass(frozen=True, slots=True)
class RedriveFilters:
    stages: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    subscriptions: tuple[str, ...] = ()
    since_ms: int | None = None
    until_ms: int | None = None
    """Exclusive."""
    max_redrives: int = 3


@dataclass(frozen=True, slots=True)
class Letter:
    """A dead letter to send again."""

    partition: int
    offset: int
    """Where the letter is in the dead-letter topic."""
    identity: DeadLetterIdentity
    first_failure_s: float
    """Seconds since the epoch of the first failure (kept in the letter a new failure writes)."""
    source_timestamp_ms: int | None
    source_headers: tuple[tuple[str, bytes | None], ...]


@dataclass(slots=True)
class RedrivePlan:
    topic: str
    groups: dict[str, list[Letter]] = field(default_factory=dict)
    """Subscription name ("" for every subscription) -> letters, in topic order."""
    left: dict[str, int] = field(default_factory=dict)
    read: int = 0

    @property
    def letters(self) -> int:
        return sum(len(g) for g in self.groups.values())


def plan_redrive(view: ClusterView, config: Config, filters: RedriveFilters) -> RedrivePlan:
    assert config.kafka is not None
    topic = config.kafka.dead_letter_topic
    configured = _subscription_names(config)
    numbers = view.partitions(topic)
    ends = {p: high for p, (_, high) in view.watermarks(topic, numbers).items()}
    if filters.since_ms is not None:
        starts = view.offsets_for_time(topic, numbers, filters.since_ms)
    else:
        starts = {p: low for p, (low, _) in view.watermarks(topic, numbers).items()}
    plan = RedrivePlan(topic)
    found: dict[DeadLetterIdentity, Letter] = {}
    order: list[tuple[str, Letter]] = []
    scan = LetterScan()
    for message, record in scan.letters(view.scan(topic, starts, ends)):
        _, stamp = message.timestamp()
        reason = _left_for(record, stamp, filters, configured)
        if reason is not None:
            _count(plan.left, reason)
            continue
        identity = identity_of(record)
        if identity in found:
            _count(plan.left, "duplicate")
            continue
        letter = Letter(
            partition=int(message.partition() or 0), offset=int(message.offset() or 0),
            identity=identity, first_failure_s=_first_failure(record, stamp),
            source_timestamp_ms=record["source_timestamp"],
            source_headers=tuple((h["key"], h["value"]) for h in record["source_headers"]),
        )
        found[identity] = letter
        order.append((identity.subscription if record["stage"] != "decode" else "", letter))
    plan.read = scan.read
    for group, letter in order:
        if letter.identity in scan.resolved:
            _count(plan.left, "resolved")
            continue
        plan.groups.setdefault(group, []).append(letter)
    return plan


def _left_for(
    record: dict[str, Any], stamp: int, filters: RedriveFilters, configured: set[str]
) -> str | None:
    subscription = record["subscription"]
    if filters.stages and record["stage"] not in filters.stages:
        return "filtered_out"
    if filters.reasons and record["reason"] not in filters.reasons:
        return "filtered_out"
    if filters.subscriptions and subscription not in filters.subscriptions:
        return "filtered_out"
    if filters.since_ms is not None and stamp < filters.since_ms:
        return "filtered_out"
    if filters.until_ms is not None and stamp >= filters.until_ms:
        return "filtered_out"
    if record["redrives"] >= filters.max_redrives:
        return "max_redrives"
    if record["value_truncated"] is not None:
        return "value_truncated"
    if record["stage"] != "decode" and subscription not in configured:
        return "unknown_subscription"
    return None


def _subscription_names(config: Config) -> set[str]:
    return {s.name or f"subscriptions.{i}"
            for i, s in enumerate(configured_subscriptions(config)) if s.enabled}


def _first_failure(record: dict[str, Any], stamp: int) -> float:
    text = record["first_failure"]
    if isinstance(text, str) and text:
        try:
            return datetime.fromisoformat(text).timestamp()
        except ValueError:
            pass
    return stamp / 1000.0


def _count(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1
