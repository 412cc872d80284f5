"""The sandbox in a child process, for tests and benchmarks that must not share a CPU-bound
event loop (or a GIL) with the code they drive.

``SandboxProcess`` runs ``python -m streamer.sandbox --port 0 ...`` (the ``streamer sandbox``
command's own ``configure``/``main``, without loading the other subcommands), reads the URL from
the child's first stdout line, and on exit sends SIGTERM (SIGKILL if it lingers). The child's
stderr goes to a temporary file whose tail is part of the error when the start fails. A fault
plan given as data is written to a temporary JSON file passed with ``--faults``.

    with SandboxProcess(api_keys=["pau-test"], ban=False) as sandbox:
        run_pipeline(endpoint=sandbox.url)
        assert sandbox.control.stats()["activities"] == 100
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import orjson

from ._client import SandboxClient, root_of
from ._faults import FaultPlan
from ._lean import Intake
from ._store import Retain

__all__ = ["SandboxProcess"]

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class SandboxProcess:
    """A sandbox server in a child process. ``url`` and ``control`` once started."""

    def __init__(
        self,
        *,
        api_keys: Iterable[str] | None = None,
        faults: FaultPlan | Mapping[str, Any] | list[Any] | str | os.PathLike[str] | None = None,
        ban: bool = True,
        retain: Retain = "items",
        intake: Intake = "full",
        host: str = "127.0.0.1",
        port: int = 0,
        extra_args: Sequence[str] = (),
        command: Sequence[str] | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self._api_keys = list(api_keys) if api_keys is not None else None
        self._faults = faults
        self._ban = ban
        self._retain = retain
        self._intake = intake
        self._host = host
        self._port = port
        self._extra_args = list(extra_args)
        self._command = (
            list(command) if command is not None else [sys.executable, "-m", "streamer.sandbox"]
        )
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._fault_file: str | None = None
        self._control: SandboxClient | None = None
        self._reader: threading.Thread | None = None
        self.url = ""
        """The contract base URL, ``http://127.0.0.1:PORT/v1``."""

    @property
    def root_url(self) -> str:
        return root_of(self.url)

    @property
    def control(self) -> SandboxClient:
        """The control client (created on first use, closed by :meth:`stop`)."""
        if not self.url:
            raise RuntimeError("the sandbox process is not started")
        if self._control is None:
            self._control = SandboxClient(self.url)
        return self._control

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def _arguments(self) -> list[str]:
        arguments = ["--host", self._host, "--port", str(self._port), "--retain", self._retain,
                     "--intake", self._intake]
        arguments.append("--ban" if self._ban else "--no-ban")
        for key in self._api_keys or ():
            arguments += ["--api-key", key]
        faults = self._faults
        if isinstance(faults, (str, os.PathLike)):
            arguments += ["--faults", os.fspath(faults)]
        elif faults is not None:
            plan = FaultPlan.parse(faults)
            handle, self._fault_file = tempfile.mkstemp(prefix="sandbox-faults-", suffix=".json")
            with os.fdopen(handle, "wb") as file:
                file.write(orjson.dumps(plan.model_dump(exclude_none=True)))
            arguments += ["--faults", self._fault_file]
        return arguments + self._extra_args

    def start(self) -> SandboxProcess:
        if self._process is not None:
            raise RuntimeError("the sandbox process is already started")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            part for part in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if part
        )
        env.setdefault("PYTHONUNBUFFERED", "1")
        # Closed by stop(), which every start() failure path and __exit__ reach.
        self._stderr = tempfile.TemporaryFile(prefix="sandbox-stderr-")  # noqa: SIM115
        try:
            self._process = subprocess.Popen(
                [*self._command, *self._arguments()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                env=env,
            )
        except BaseException:
            self.stop()
            raise
        first_line = self._read_first_line(self._process)
        if not first_line.startswith("http"):
            # Its stdout closed: the child is exiting. Wait a little for its exit status, which
            # the failure names (stdout closes during the interpreter's shutdown, before it).
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=5)
            failure = self._failure_text()
            self.stop()
            raise RuntimeError(f"the sandbox process did not start: {failure}")
        self.url = first_line
        return self

    def _read_first_line(self, process: subprocess.Popen[bytes]) -> str:
        stdout = process.stdout
        assert stdout is not None
        lines: list[bytes] = []
        got_line = threading.Event()

        def read() -> None:
            lines.append(stdout.readline())  # b"" when the child exits first
            got_line.set()
            # Keep draining so the child can never block on a full pipe; ends at its exit.
            for _ in iter(stdout.readline, b""):
                pass

        self._reader = threading.Thread(target=read, name="sandbox-stdout", daemon=True)
        self._reader.start()
        got_line.wait(self._startup_timeout)
        return lines[0].decode(errors="replace").strip() if lines else ""

    def _failure_text(self) -> str:
        process = self._process
        code = None if process is None else process.poll()
        tail = b""
        if self._stderr is not None:
            self._stderr.seek(0)
            tail = self._stderr.read()[-2000:]
        state = "still running" if code is None else f"exit status {code}"
        return f"{state}; stderr: {tail.decode(errors='replace').strip() or '(empty)'}"

    def stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
            if self._reader is not None:
                self._reader.join(timeout=10)
                self._reader = None
            if process.stdout is not None:
                process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._fault_file is not None:
            Path(self._fault_file).unlink(missing_ok=True)
            self._fault_file = None

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
