"""What a process costs: CPU time and peak resident memory from Linux ``/proc``, and a sampler
that records them in time so that a window can be cut out afterwards.

A benchmark's clock starts and stops at moments learnt only later (the sandbox's first answer,
the poll that saw every offset committed), so :class:`CpuSampler` records ``(time, cpu)`` for
each watched process every few tens of milliseconds from a thread, and :meth:`CpuSampler.between`
interpolates the CPU used inside any window. Reading ``/proc/<pid>/stat`` costs the watched
process nothing.
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from pathlib import Path

__all__ = [
    "CpuSampler", "cpu_seconds", "machine_busy_seconds", "peak_rss_bytes", "tree_cpu_seconds"
]

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (its threads included)."""
    with open(f"/proc/{pid}/stat") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and of its descendants alive now (a launcher and its JVM)."""
    total = cpu_seconds(pid)
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        try:
            total += tree_cpu_seconds(int(child))
        except OSError:
            continue
    return total


def peak_rss_bytes(pid: int) -> int:
    """The kernel's high-water mark of the process's resident memory (``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine since boot, all cores added."""
    with open("/proc/stat") as file:
        values = [int(v) for v in file.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / _TICK, idle / _TICK


class CpuSampler:
    """Samples the CPU time of named processes (and of the machine) until stopped."""

    def __init__(
        self, pids: dict[str, int], interval: float = 0.05, trees: frozenset[str] = frozenset()
    ) -> None:
        self._pids = dict(pids)
        self._trees = trees
        """Names whose descendants count too (the broker: a reaper process, then the JVM)."""
        self._interval = interval
        self._times: list[float] = []
        self._samples: dict[str, list[float]] = {name: [] for name in [*pids, "machine"]}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def __enter__(self) -> CpuSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sample()

    def _sample(self) -> None:
        now = time.time()
        values: dict[str, float] = {}
        for name, pid in self._pids.items():
            try:
                values[name] = tree_cpu_seconds(pid) if name in self._trees else cpu_seconds(pid)
            except OSError:  # it exited: its last value stands
                series = self._samples[name]
                values[name] = series[-1] if series else 0.0
        values["machine"] = machine_busy_seconds()[0]
        self._times.append(now)
        for name, value in values.items():
            self._samples[name].append(value)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def _at(self, name: str, moment: float) -> float:
        times, values = self._times, self._samples[name]
        index = bisect.bisect_left(times, moment)
        if index <= 0:
            return values[0]
        if index >= len(times):
            return values[-1]
        before, after = times[index - 1], times[index]
        share = (moment - before) / (after - before) if after > before else 1.0
        return values[index - 1] + share * (values[index] - values[index - 1])

    def between(self, name: str, start: float, end: float) -> float:
        """CPU seconds ``name`` (or ``"machine"``: all cores) used from ``start`` to ``end``."""
        return max(0.0, self._at(name, end) - self._at(name, start))
