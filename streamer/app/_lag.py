"""Consumer lag per partition, in messages and in seconds, computed at each checkpoint.

Lag in messages: from the commit point (the first message not done, or the next one to read
when none is pending) to the partition's end (the high watermark librdkafka reports).

Lag in seconds: how far behind the commit point is in time.

- A message is pending: now minus the Kafka timestamp of the oldest message not done (the one
  holding the commit back; a message without a timestamp counts from when it was consumed).
- None pending and the partition has messages beyond the last one dispatched (lag in messages
  above 0): now minus the timestamp of the last message dispatched (the first one not read yet
  is at most that old).
- None pending and no lag in messages: 0.

A partition with messages behind and nothing dispatched by this process yet has no value (its
series is not written until it has one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..offsets import PartitionOffsets, TopicPartitionKey

__all__ = ["lag_messages", "lag_seconds"]


def lag_messages(
    partitions: Iterable[PartitionOffsets], ends: Mapping[TopicPartitionKey, tuple[int, int]]
) -> dict[TopicPartitionKey, int]:
    """Per partition with a known end: messages from the commit point to the end."""
    out: dict[TopicPartitionKey, int] = {}
    for state in partitions:
        known = ends.get(state.key)
        if known is None:
            continue
        low, high = known
        done_up_to = state.committable()
        if done_up_to is None:
            # Nothing read yet: reading starts at the commit, or at the log's start.
            done_up_to = state.committed if state.committed is not None else max(low, 0)
        out[state.key] = max(0, high - done_up_to)
    return out


def lag_seconds(
    partitions: Iterable[PartitionOffsets],
    behind: Mapping[TopicPartitionKey, int],
    last_dispatched: Mapping[TopicPartitionKey, tuple[PartitionOffsets, int]],
    *,
    wall_now: float,
    now: float,
) -> dict[TopicPartitionKey, float]:
    """Per partition: the lag in seconds (see the module's docstring). ``wall_now`` is the
    wall clock (Kafka timestamps), ``now`` the clock tickets were dispatched by."""
    out: dict[TopicPartitionKey, float] = {}
    for state in partitions:
        key = state.key
        held = state.holding_back()
        if held is not None:
            message = held.message
            kind, stamp = message.timestamp() if message is not None else (0, 0)
            age = wall_now - stamp / 1000.0 if kind else now - held.dispatched_at
        elif key not in behind:
            continue  # the partition's end is not known yet
        elif behind[key] > 0:
            last = last_dispatched.get(key)
            if last is None or last[0] is not state:
                continue  # nothing dispatched by this assignment yet: unknown
            age = wall_now - last[1] / 1000.0
        else:
            age = 0.0
        out[key] = max(0.0, age)
    return out
