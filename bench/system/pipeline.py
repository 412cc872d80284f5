"""``streamer run`` as the benchmark runs it: child processes with a generated configuration,
against a topic's backlog (or a topic being written), until every offset is committed.

The clock of a run starts when the first process reports its first consumed message (its
``/metrics``, polled every 20 ms until then, as the ceiling's clock starts at its first message)
and stops at the poll (every 50 ms, through the AdminClient) that saw the group's committed
offsets reach the end of every partition. (From the sandbox's first answer instead, the first
window's linger would be left out: a short run, or the filter path, would look faster than the
ceiling; that rate is kept as ``rate_from_first_request``.) CPU time, the sandbox's and the
broker's included, is cut out of the samples of :class:`~measure.CpuSampler` over that same
window; the peak RSS is each process's ``VmHWM`` just before it is stopped.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from streamer.sandbox import IntakeReport, SandboxProcess
from streamer.testing import KafkaCluster, StreamerProcess

from .measure import CpuSampler, peak_rss_bytes

_CONSUMED = "streamer_consumed_messages_total"

__all__ = ["Run", "Setting", "run_streamer"]

API_KEY = "pau-bench-key"


@dataclass(frozen=True)
class Setting:
    """What differs between two runs of streamer."""

    rate_per_s: float | None = None
    ordering: str | None = None
    """``delivery.ordering``; None: the key is left out (its default applies)."""
    processes: int = 1


@dataclass
class Run:
    """One run's figures: ``seconds`` from the first answer to every offset committed."""

    events: int
    seconds: float
    cpu_s: float
    """CPU time of every streamer process together in the window."""
    sandbox_cpu_s: float
    broker_cpu_s: float
    machine_cpu_s: float
    """All cores, whatever ran on them (the neighbours too)."""
    peak_rss: list[int]
    intake: IntakeReport
    rate_from_first_request: float
    metrics: str = ""
    """The first process's ``/metrics`` text at the end."""
    per_process_cpu_s: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_us(self) -> float:
        return self.cpu_s / self.events * 1e6 if self.events else 0.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config(
    bootstrap: str, topic: str, group: str, sandbox_url: str, metrics_port: int, setting: Setting
) -> dict[str, Any]:
    """The configuration of one process: the defaults, except what a benchmark must set."""
    delivery: dict[str, Any] = {}
    if setting.rate_per_s is not None:
        delivery["rate_per_s"] = setting.rate_per_s
    if setting.ordering is not None:
        delivery["ordering"] = setting.ordering
    return {
        "kafka": {"bootstrap_servers": bootstrap, "topics": [topic], "group_id": group,
                  "start_from": "earliest", "dead_letter_topic": f"{topic}.dlq",
                  # The default (1 s) would add up to a second to a run that ends at a commit.
                  "commit_interval_ms": 200},
        "ortto": {"api_key": API_KEY, "endpoint": sandbox_url},
        "delivery": delivery,
        "metrics": {"port": metrics_port, "host": "127.0.0.1"},
        "logging": {"format": "json", "level": "WARNING"},
    }


def _consumed(port: int) -> float:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except httpx.HTTPError:
        return 0.0
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(_CONSUMED))


def _first_consumed(processes: list[StreamerProcess], ports: list[int], timeout: float) -> float:
    """The wall-clock time at which a process first reports a consumed message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process, port in zip(processes, ports, strict=True):
            status = process.exited()
            if status is not None:
                raise RuntimeError(f"streamer exited with {status}\n{process.log_tail()}")
            if _consumed(port) > 0:
                return time.time()
        time.sleep(0.02)
    raise TimeoutError(f"streamer consumed nothing within {timeout}s")


def _wait_ready(process: StreamerProcess, port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = process.exited()
        if status is not None:
            raise RuntimeError(f"streamer exited with {status}\n{process.log_tail()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"streamer was not ready within {timeout}s\n{process.log_tail()}")


def run_streamer(
    broker: KafkaCluster,
    sandbox: SandboxProcess,
    workdir: Path,
    topic: str,
    setting: Setting = Setting(),
    *,
    ends: Mapping[int, int] | None = None,
    stop_after: float | None = None,
    while_ready: Callable[[], None] | None = None,
    timeout: float = 600.0,
) -> Run:
    """Run ``setting.processes`` processes in one new group on ``topic``.

    ``ends``: the offsets to wait for (default: the topic's end offsets at the start).
    ``stop_after``: stop that many seconds after the first answer instead (a rate, not a drain).
    ``while_ready``: called once every process is ready (it writes the topic), then ``ends``
    is read again.
    """
    sandbox.control.reset()
    group = f"bench-{uuid.uuid4().hex[:8]}"
    ports = [_free_port() for _ in range(setting.processes)]
    processes = [
        StreamerProcess(config(broker.bootstrap_servers, topic, group, sandbox.url, port, setting),
                        workdir, name=f"streamer-{group}-{n}")
        for n, port in enumerate(ports)
    ]
    broker_process = getattr(broker, "_process", None)
    try:
        for process in processes:
            process.start()
        pids = {f"streamer-{n}": p.pid for n, p in enumerate(processes) if p.pid is not None}
        assert sandbox.pid is not None
        pids["sandbox"] = sandbox.pid
        if broker_process is not None:
            pids["broker"] = broker_process.pid
        with CpuSampler(pids, trees=frozenset({"broker"})) as sampler:
            consumed_at: float | None = None
            if while_ready is not None:
                for process, port in zip(processes, ports, strict=True):
                    _wait_ready(process, port)
                while_ready()
            else:
                consumed_at = _first_consumed(processes, ports, timeout)
            wanted = dict(ends if ends is not None else broker.end_offsets(topic))
            end = _drain(broker, group, topic, wanted, processes, sandbox, stop_after, timeout)
            peaks = [peak_rss_bytes(p.pid) for p in processes if p.pid is not None]
            try:
                metrics = httpx.get(f"http://127.0.0.1:{ports[0]}/metrics", timeout=10).text
            except httpx.HTTPError:
                metrics = ""
        intake = sandbox.control.intake()
    finally:
        for process in processes:
            if process.running:
                process.terminate()
    first_answer = intake["first_answer"] or end
    start = first_answer if consumed_at is None or stop_after is not None else consumed_at
    events = intake["items"] if stop_after is not None else sum(wanted.values())
    per_process = [sampler.between(f"streamer-{n}", start, end) for n in range(len(processes))]
    return Run(
        events=events,
        seconds=end - start,
        cpu_s=sum(per_process),
        sandbox_cpu_s=sampler.between("sandbox", start, end),
        broker_cpu_s=sampler.between("broker", start, end) if "broker" in pids else 0.0,
        machine_cpu_s=sampler.between("machine", start, end),
        peak_rss=peaks,
        intake=intake,
        rate_from_first_request=events / (end - first_answer) if end > first_answer else 0.0,
        metrics=metrics,
        per_process_cpu_s=per_process,
    )


def _drain(
    broker: KafkaCluster,
    group: str,
    topic: str,
    wanted: Mapping[int, int],
    processes: list[StreamerProcess],
    sandbox: SandboxProcess,
    stop_after: float | None,
    timeout: float,
) -> float:
    """Poll until every offset of ``wanted`` is committed (or ``stop_after`` has passed since
    the first answer); the wall-clock time of that poll."""
    deadline = time.monotonic() + timeout
    first: float | None = None
    while time.monotonic() < deadline:
        for process in processes:
            status = process.exited()
            if status is not None:
                raise RuntimeError(f"streamer exited with {status}\n{process.log_tail()}")
        now = time.time()
        if stop_after is not None:
            if first is None:
                first = sandbox.control.intake()["first_answer"]
            elif now - first >= stop_after:
                return now
        else:
            committed = broker.committed_offsets(group, topic)
            if all(committed.get(p, 0) >= offset for p, offset in wanted.items()):
                return now
        time.sleep(0.05 if stop_after is None else 0.25)
    raise TimeoutError(f"group {group} did not commit {dict(wanted)} within {timeout}s")
