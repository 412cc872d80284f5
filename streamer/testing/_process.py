"""``streamer run`` in a child process: started, killed with SIGKILL, stopped with SIGTERM.

The fault-proof tests need a process that can die for real (no ``finally``, no last commit)
and come back; an in-process pipeline cannot. The configuration is written as YAML into a
directory the caller owns; stdout and stderr go to a log file there, and a failure to start
raises with that log's tail.

Lifecycle: :meth:`start` → (:meth:`kill` | :meth:`terminate`) → :meth:`start` again, as often
as needed. :meth:`peak_rss_bytes` reads the kernel's high-water mark of resident memory while
the process lives (Linux ``/proc``), for tests that bound memory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

__all__ = ["StreamerProcess"]


class StreamerProcess:
    def __init__(self, config: Mapping[str, Any], workdir: Path, *, name: str = "streamer") -> None:
        self.config = dict(config)
        self.name = name
        self.workdir = workdir
        self.config_path = workdir / f"{name}.yaml"
        self.log_path = workdir / f"{name}.log"
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        self._process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.peak_rss = 0
        """Highest ``VmHWM`` seen over every life of the process, in bytes."""

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"\n----- start {self.starts} -----\n".encode())
        log.flush()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "streamer", "run", "--config", str(self.config_path)],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )
        log.close()

    def kill(self) -> None:
        """SIGKILL: no grace, no last commit, nothing flushed."""
        if self._process is None:
            return
        self.peak_rss_bytes()
        self._process.send_signal(signal.SIGKILL)
        self._process.wait(10)
        self._process = None

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait: the exit status of a clean stop (0 expected)."""
        if self._process is None:
            raise RuntimeError(f"{self.name} is not running")
        self.peak_rss_bytes()
        self._process.send_signal(signal.SIGTERM)
        try:
            status = self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)
            raise RuntimeError(
                f"{self.name} did not stop within {timeout}s of SIGTERM\n{self.log_tail()}"
            ) from None
        self._process = None
        return status

    def exited(self) -> int | None:
        """The exit status if the process ended by itself, else None."""
        return None if self._process is None else self._process.poll()

    def peak_rss_bytes(self) -> int:
        """The peak resident memory of the current life (kept in :attr:`peak_rss`)."""
        pid = self.pid
        if pid is not None:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                return self.peak_rss
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_rss = max(self.peak_rss, int(line.split()[1]) * 1024)
        return self.peak_rss

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def wait_running(self, seconds: float) -> None:
        """Fail fast (with the log) if the process dies within ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            status = self.exited()
            if status is not None:
                raise RuntimeError(f"{self.name} exited with {status}\n{self.log_tail()}")
            time.sleep(0.05)

    def __enter__(self) -> StreamerProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.running:
            self.kill()
