"""From the operator's words (offsets, times, partitions) to a range per partition.

Everything is checked against the partitions as they are when the command starts, before a
message is read: a start before the log's first offset (deleted by retention) or after its end,
an end past the partition's end or before the start, a partition the topic does not have, all
are :class:`UsageError` naming the partition and the offsets it holds.

The end is exclusive and defaults to each partition's end (high watermark) at the start, so a
replay always finishes. Timestamps are resolved by the broker (offsets-for-times): the first
record at or after the time; a time after the last record means the partition's end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .._exceptions import UsageError
from ..source import ClusterView, PartitionRange

__all__ = ["RangeRequest", "resolve_ranges"]


@dataclass(frozen=True, slots=True)
class RangeRequest:
    topic: str
    partitions: tuple[int, ...] = ()
    """Empty: the partitions named by per-partition offsets, or else all of them."""
    from_offset: int | None = None
    from_offsets: Mapping[int, int] = field(default_factory=dict)
    from_timestamp_ms: int | None = None
    from_beginning: bool = False
    to_offset: int | None = None
    to_offsets: Mapping[int, int] = field(default_factory=dict)
    to_timestamp_ms: int | None = None


def resolve_ranges(
    view: ClusterView, request: RangeRequest, resume: Mapping[int, int] | None = None
) -> list[PartitionRange]:
    """One range per chosen partition; ``resume``: offsets a group already got to (they win
    over the requested starts, inside the range)."""
    topic = request.topic
    existing = view.partitions(topic)
    chosen = _chosen_partitions(request, existing)
    ends = view.watermarks(topic, chosen)
    starts = _starts(view, request, chosen, ends)
    stops = _stops(view, request, chosen, ends)
    problems: list[str] = []
    ranges: list[PartitionRange] = []
    for partition in chosen:
        low, high = ends[partition]
        start, stop = starts[partition], stops[partition]
        holds = f"it holds offsets {low} to {high} (end exclusive)" if high > low \
            else f"it is empty (end {high})"
        if start < low:
            problems.append(f"{topic}[{partition}]: start {start} is before its first offset: "
                            f"{holds}; earlier records were deleted")
        elif start > high:
            problems.append(f"{topic}[{partition}]: start {start} is past its end: {holds}")
        if stop > high:
            problems.append(f"{topic}[{partition}]: end {stop} is past its end: {holds}")
        elif stop < start:
            problems.append(f"{topic}[{partition}]: end {stop} is before the start {start}")
        done = (resume or {}).get(partition)
        if done is not None:
            start = min(max(start, done), stop)
        ranges.append(PartitionRange(topic, partition, start, stop))
    if problems:
        raise UsageError("the range is outside the partition:\n  " + "\n  ".join(problems))
    return ranges


def _chosen_partitions(request: RangeRequest, existing: list[int]) -> list[int]:
    named = set(request.partitions) | set(request.from_offsets) | set(request.to_offsets)
    unknown = sorted(named - set(existing))
    if unknown:
        raise UsageError(
            f"topic {request.topic!r} has no partition {', '.join(map(str, unknown))} "
            f"(it has {len(existing)}: 0 to {max(existing)})"
        )
    if request.partitions:
        chosen = set(request.partitions)
    elif request.from_offsets:
        chosen = set(request.from_offsets)
    else:
        chosen = set(existing)
    outside = sorted(set(request.to_offsets) - chosen)
    if outside:
        raise UsageError(f"--to-offset names partition {', '.join(map(str, outside))}, "
                         "which the replay does not read")
    missing = sorted(chosen - set(request.from_offsets)) if request.from_offsets else []
    if missing and request.from_offset is None:
        raise UsageError(f"no start for partition {', '.join(map(str, missing))}: give "
                         "--from-offset P=N for each partition read")
    return sorted(chosen)


def _starts(
    view: ClusterView, request: RangeRequest, chosen: list[int],
    ends: dict[int, tuple[int, int]],
) -> dict[int, int]:
    if request.from_timestamp_ms is not None:
        return view.offsets_for_time(request.topic, chosen, request.from_timestamp_ms)
    if request.from_beginning:
        return {p: ends[p][0] for p in chosen}
    if request.from_offset is None and not request.from_offsets:
        raise UsageError("give where to start: --from-offset, --from-timestamp or "
                         "--from-beginning")
    default = request.from_offset
    return {p: request.from_offsets.get(p, default if default is not None else 0)
            for p in chosen}


def _stops(
    view: ClusterView, request: RangeRequest, chosen: list[int],
    ends: dict[int, tuple[int, int]],
) -> dict[int, int]:
    if request.to_timestamp_ms is not None:
        return view.offsets_for_time(request.topic, chosen, request.to_timestamp_ms)
    default = request.to_offset
    return {p: request.to_offsets.get(p, ends[p][1] if default is None else default)
            for p in chosen}
