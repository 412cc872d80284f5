"""Back-pressure: when to pause consumption and when to resume it, from what the parts hold.

Every part of the pipeline that holds work not yet done is a :class:`Holder`: it says how many
items it holds (``held_items``) and how many bytes (``held_bytes``). Today they are the open
windows, the sender's batches in flight (retries included), the dead-letter records not yet
acknowledged, the messages waiting for their schema, and the source messages the offset tracker
keeps until they settle (their value: what a dead letter needs). A new holder is one more entry
in the list given to :class:`BackPressure` (an object with the two attributes, or a
:class:`Held` made of two callables).

Lifecycle: the pipeline builds one :class:`BackPressure` with its holders and the two high-water
marks, then on every turn of its loop calls :meth:`BackPressure.decide` with whether it is
paused and whether Ortto accepts the key, and pauses or resumes as told. The decision:

- pause while the key is refused, or once the items held pass ``max_items`` or the bytes held
  pass ``max_bytes``;
- resume once the key is accepted and both are at or below half their mark (hysteresis: one
  settled batch does not flip consumption back and forth);
- otherwise keep the current state.

Reading the holders is a handful of attribute reads per turn of the loop, never per message:
each holder keeps its own running counts (per ticket, per batch, per record).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..batching import Batch, Batcher
from ..deadletter import DeadLetterWriter
from ..offsets import OffsetTracker
from ..sender import Sender
from ..source import Decoding

__all__ = ["BackPressure", "Held", "Holder", "Pressure", "Verdict", "pipeline_holders"]


class Holder(Protocol):
    """A part that holds work not yet done."""

    @property
    def held_items(self) -> int:
        """Items held (counted against ``delivery.max_pending_items``)."""
        ...

    @property
    def held_bytes(self) -> int:
        """Bytes held (counted against ``delivery.max_pending_bytes``)."""
        ...


@dataclass(frozen=True, slots=True)
class Held:
    """A holder read through two callables (for a part whose counts have other names)."""

    name: str
    items: Callable[[], int]
    nbytes: Callable[[], int]

    @property
    def held_items(self) -> int:
        return self.items()

    @property
    def held_bytes(self) -> int:
        return self.nbytes()


@dataclass(frozen=True, slots=True)
class Pressure:
    """What every holder held together, at one turn of the loop."""

    items: int
    nbytes: int


class Verdict(enum.Enum):
    KEEP = "keep"
    PAUSE = "pause"
    RESUME = "resume"


class BackPressure:
    """Pause above either high-water mark (or while the key is refused); resume below half."""

    __slots__ = ("_holders", "max_bytes", "max_items")

    def __init__(self, holders: Sequence[Holder], *, max_items: int, max_bytes: int) -> None:
        if max_items < 1 or max_bytes < 1:
            raise ValueError("the high-water marks must be positive")
        self._holders = list(holders)
        self.max_items = max_items
        self.max_bytes = max_bytes

    def add(self, holder: Holder) -> None:
        """One more part that holds work (counted from the next decision on)."""
        self._holders.append(holder)

    def measure(self) -> Pressure:
        items = nbytes = 0
        for holder in self._holders:
            items += holder.held_items
            nbytes += holder.held_bytes
        return Pressure(items, nbytes)

    def judge(self, pressure: Pressure, *, paused: bool, key_ok: bool) -> Verdict:
        """The decision for ``pressure`` (pure: the tables of tests/app read it directly)."""
        over = pressure.items > self.max_items or pressure.nbytes > self.max_bytes
        if not key_ok or over:
            return Verdict.KEEP if paused else Verdict.PAUSE
        if paused and pressure.items <= self.max_items // 2 \
                and pressure.nbytes <= self.max_bytes // 2:
            return Verdict.RESUME
        return Verdict.KEEP

    def decide(self, *, paused: bool, key_ok: bool) -> tuple[Verdict, Pressure]:
        """Measure the holders and judge; the pressure comes back for the log and the gauges."""
        pressure = self.measure()
        return self.judge(pressure, paused=paused, key_ok=key_ok), pressure


class _Windows:
    """Items in open windows (and closed ones not yet handed over), with their JSON bytes."""

    __slots__ = ("_batcher",)

    def __init__(self, batcher: Batcher) -> None:
        self._batcher = batcher

    @property
    def held_items(self) -> int:
        return self._batcher.waiting + sum(len(b) for b in self._batcher.ready)

    @property
    def held_bytes(self) -> int:
        batcher = self._batcher
        windows: list[Batch] = [*batcher.windows().values(), *batcher.ready]
        return sum(window.nbytes for window in windows)


class _InFlight:
    """Items handed to the sender and not yet reported (in a request, waiting for a place or
    a retry), and the bytes of their requests."""

    __slots__ = ("_sender",)

    def __init__(self, sender: Sender) -> None:
        self._sender = sender

    @property
    def held_items(self) -> int:
        return self._sender.in_flight_items

    @property
    def held_bytes(self) -> int:
        return self._sender.in_flight_bytes


def pipeline_holders(
    *, batcher: Batcher, sender: Sender, dead_letter: DeadLetterWriter, decoding: Decoding,
    tracker: OffsetTracker,
) -> list[Holder]:
    """The pipeline's parts that hold work, as :class:`Holder` s."""
    windows = _Windows(batcher)
    return [
        windows,
        _InFlight(sender),
        dead_letter,
        Held("waiting for a schema", lambda: decoding.held, lambda: decoding.held_bytes),
        # Source messages are not items (their items are counted where they are); their
        # bytes are what the tickets keep for dead letters.
        Held("source messages", lambda: 0, lambda: tracker.pending_bytes),
    ]
