"""A real schema registry on loopback for the Avro tests: Apicurio Registry, in memory.

Apicurio Registry implements the Confluent Schema Registry API (under ``/apis/ccompat/v7``) and
is on Maven Central as an assembly that runs on Java 17
(``io.apicurio:apicurio-registry-app:2.6.13.Final:tar.gz:all``), so it comes from the same place
as the Kafka jars (see ``_jars.py``): ``mvn dependency:copy`` fetches the archive once, it is
unpacked into the cache, then reused by every run::

    $STREAMER_KAFKA_CACHE (default: $XDG_CACHE_HOME/streamer or ~/.cache/streamer)
    └── apicurio-registry-2.6.13.Final/
        ├── apicurio-registry-app-2.6.13.Final-runner.jar, lib/   the application
        └── .complete    written last: its absence means "fetch again"

Lifecycle of :class:`SchemaRegistry`: ``start()`` picks a free loopback port, starts the JVM under
the reaper (it dies with this process however it ends), and waits until the Confluent API
answers; ``pause()`` / ``resume()`` freeze and thaw it (SIGSTOP / SIGCONT: its storage is in
memory, so a restart would lose every schema); ``stop()`` ends it and removes its directory. A
start that fails raises :class:`BrokerError` ending with the registry's log tail.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from streamer._exceptions import BrokerError
from streamer.testing._broker import _free_port, _tail
from streamer.testing._jars import kafka_cache_dir

__all__ = ["APICURIO_VERSION", "SchemaRegistry", "ensure_registry_app"]

APICURIO_VERSION = "2.6.13.Final"

_COMPLETE_MARKER = ".complete"
_FETCH_TIMEOUT_SECONDS = 900.0
_HOST = "127.0.0.1"
_REAPER = Path(__file__).with_name("_reaper.py")
_JVM_OPTIONS = ("-Xms64m", "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-XX:+ExitOnOutOfMemoryError", "-XX:-UsePerfData")


def _runner(version: str) -> str:
    return f"apicurio-registry-app-{version}-runner.jar"


def ensure_registry_app(version: str = APICURIO_VERSION) -> Path:
    """The directory holding the registry's runner jar, fetched with Maven if not cached."""
    app = kafka_cache_dir().with_name(f"apicurio-registry-{version}")
    if (app / _COMPLETE_MARKER).is_file():
        return app
    app.parent.mkdir(parents=True, exist_ok=True)
    with app.with_name(app.name + ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (app / _COMPLETE_MARKER).is_file():
                _fetch(version, app)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return app


def _fetch(version: str, app: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerError("cannot fetch Apicurio Registry: `mvn` (Apache Maven) is not on PATH")
    shutil.rmtree(app, ignore_errors=True)
    download = app.with_name(app.name + ".download")
    shutil.rmtree(download, ignore_errors=True)
    command = [mvn, "-q", "-B", "-Dstyle.color=never", "dependency:copy",
               f"-Dartifact=io.apicurio:apicurio-registry-app:{version}:tar.gz:all",
               f"-DoutputDirectory={download}"]
    try:
        done = subprocess.run(command, cwd=app.parent, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=_FETCH_TIMEOUT_SECONDS,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise BrokerError(f"fetching Apicurio Registry {version} took too long") from exc
    archives = list(download.glob("*.tar.gz"))
    if done.returncode != 0 or len(archives) != 1:
        output = (done.stdout + done.stderr)[-4000:]
        raise BrokerError(f"fetching Apicurio Registry {version} failed "
                          f"(mvn exit {done.returncode}):\n{output}")
    with tarfile.open(archives[0]) as archive:
        archive.extractall(app, filter="data")
    shutil.rmtree(download, ignore_errors=True)
    if not (app / _runner(version)).is_file():
        raise BrokerError(f"the Apicurio Registry archive has no {_runner(version)}")
    (app / _COMPLETE_MARKER).write_text(f"io.apicurio:apicurio-registry-app:{version}\n")


class SchemaRegistry:
    """Apicurio Registry in a child JVM; use as a context manager or call start() and stop()."""

    def __init__(self, *, version: str = APICURIO_VERSION, start_timeout: float = 120.0) -> None:
        self._version = version
        self._start_timeout = start_timeout
        self._port = 0
        self._dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The Confluent-compatible API, for ``kafka.schema_registry.url``."""
        if not self._port:
            raise BrokerError("the schema registry is not started")
        return f"http://{_HOST}:{self._port}/apis/ccompat/v7"

    @property
    def log_path(self) -> Path | None:
        return self._dir / "registry.log" if self._dir else None

    def log_tail(self, lines: int = 60) -> str:
        path = self.log_path
        return (_tail(path, lines) if path else "") or "(the registry wrote no log)"

    def __enter__(self) -> SchemaRegistry:
        return self if self._dir is not None else self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def start(self) -> SchemaRegistry:
        if self._dir is not None:
            raise BrokerError("this SchemaRegistry is already started")
        app = ensure_registry_app(self._version)
        java = shutil.which("java")
        if java is None:
            raise BrokerError("cannot start the schema registry: `java` is not on PATH")
        self._dir = Path(tempfile.mkdtemp(prefix="streamer-registry-"))
        self._port = _free_port()
        command = [sys.executable, str(_REAPER), "--cleanup", str(self._dir), "--", java,
                   *_JVM_OPTIONS, f"-Dquarkus.http.host={_HOST}",
                   f"-Dquarkus.http.port={self._port}", "-jar", str(app / _runner(self._version))]
        with (self._dir / "registry.log").open("ab") as log:
            # The pipe is the reaper's lifeline: its write end stays here, unwritten, until we exit.
            self._process = subprocess.Popen(command, cwd=self._dir, stdin=subprocess.PIPE,
                                             stdout=log, stderr=subprocess.STDOUT,
                                             start_new_session=True)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop(timeout=0)
            raise
        return self

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self._start_timeout
        while True:
            status = self._process.poll()
            if status is not None:
                raise BrokerError(f"the schema registry exited with {status} while starting\n"
                                  f"{self.log_tail()}")
            if time.monotonic() >= deadline:
                raise BrokerError(f"the schema registry did not answer within "
                                  f"{self._start_timeout:.0f}s\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/subjects", timeout=1.0) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)

    def pause(self) -> None:
        """Freeze the JVM (SIGSTOP): connections are accepted by the kernel, nothing answers."""
        process = self._require()
        os.killpg(process.pid, signal.SIGSTOP)
        os.kill(process.pid, signal.SIGCONT)  # the reaper itself must keep watching

    def resume(self) -> None:
        os.killpg(self._require().pid, signal.SIGCONT)

    def _require(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise BrokerError("the schema registry is not running")
        return self._process

    def stop(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGCONT)
                    os.killpg(process.pid, signal.SIGTERM if timeout > 0 else signal.SIGKILL)
                    process.wait(timeout if timeout > 0 else None)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                except ProcessLookupError:
                    process.wait()
            assert process.stdin is not None
            process.stdin.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self._port = 0
