"""A real single-node Apache Kafka broker (KRaft, combined broker + controller) on loopback.

Used by the test suite (``tests/conftest.py``) and by ``streamer demo`` so that both talk to the
genuine article instead of a mock: group rebalances, commits and acknowledgements behave as in
production.

Lifecycle of :class:`KafkaBroker`::

    start()   jars from the cache (fetched by Maven once, see _jars.py)
              -> temporary data dir: server.properties, log4j2.properties, logs/, kraft/
              -> free loopback ports for the broker and controller listeners
              -> `kafka.tools.StorageTool format` with a fresh cluster id
              -> `kafka.Kafka server.properties` under the reaper (see _reaper.py)
              -> wait until the broker answers metadata with our cluster id
    restart() same ports and data, new JVM (for fault tests)
    stop()    SIGTERM, SIGKILL after the grace period, data dir removed

A start that fails raises :class:`BrokerError` whose message ends with the broker's log tail. A port
taken by another process between our probe and the broker's bind is retried with new ports.

The settings (and why) are in _server_config.py; ``extra_properties`` overrides any of them.

Orphans: the JVM runs under a reaper that ends it (and removes the data dir) as soon as this Python
process is gone, however it went; an ``atexit`` hook also stops every broker still running.
"""

from __future__ import annotations

import atexit
import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from confluent_kafka import KafkaException

from streamer._exceptions import BrokerError
from streamer.testing._cluster import KafkaCluster
from streamer.testing._jars import KAFKA_VERSION, ensure_kafka_jars
from streamer.testing._server_config import HOST, NODE_ID, write_configuration

__all__ = ["DEFAULT_JVM_OPTIONS", "KafkaBroker", "start_local_broker"]

#: C1-only JIT and the serial collector start the JVM about a second sooner and use less memory;
#: a test broker never runs long enough for C2 to pay off. Pass ``jvm_options`` for a benchmark.
DEFAULT_JVM_OPTIONS: tuple[str, ...] = (
    "-Xms64m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:-UsePerfData",
    "-Djava.awt.headless=true",
)

_BIND_ATTEMPTS = 3
_LOG_TAIL_LINES = 60
_REAPER = Path(__file__).with_name("_reaper.py")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _new_cluster_id() -> str:
    # The form Kafka's own `random-uuid` prints: 16 random bytes, URL-safe base64, no padding.
    # It may start with "-": pass it as --cluster-id=ID, never as a separate argument.
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


def _tail(path: Path, lines: int) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(max(handle.seek(0, os.SEEK_END) - 256 * 1024, 0))
            text = handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class KafkaBroker(KafkaCluster):
    """A Kafka broker in a child JVM; use as a context manager or call start() and stop()."""

    def __init__(
        self,
        *,
        version: str = KAFKA_VERSION,
        port: int | None = None,
        extra_properties: Mapping[str, str] | None = None,
        jvm_options: Sequence[str] = DEFAULT_JVM_OPTIONS,
        start_timeout: float = 90.0,
    ) -> None:
        super().__init__(bootstrap_servers="")
        self._version = version
        self._requested_port = port
        self._extra_properties = dict(extra_properties or {})
        self._jvm_options = tuple(jvm_options)
        self._start_timeout = start_timeout
        self._port = 0
        self._controller_port = 0
        self._cluster_id = ""
        self._classpath = ""
        self._java = ""
        self._data_dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    # -- what a caller reads ---------------------------------------------------------------------

    @property
    def bootstrap_servers(self) -> str:
        if not self._port:
            raise BrokerError("the Kafka broker is not started")
        return f"{HOST}:{self._port}"

    @property
    def port(self) -> int:
        """The broker's client port (0 before start)."""
        return self._port

    @property
    def data_dir(self) -> Path | None:
        """The temporary directory with configuration, logs and data (None when stopped)."""
        return self._data_dir

    @property
    def log_path(self) -> Path | None:
        """The broker's log file (log4j2), or None when stopped."""
        return self._data_dir / "logs" / "server.log" if self._data_dir else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last lines of the broker's log, then of the JVM's own console output."""
        if self._data_dir is None:
            return ""
        parts = []
        for name in ("server.log", "console.log"):
            text = _tail(self._data_dir / "logs" / name, lines)
            if text:
                parts.append(f"--- {name} (last lines) ---\n{text}")
        return "\n".join(parts) or "(the broker wrote no log)"

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> KafkaBroker:
        # `with start_local_broker() as broker:` enters a broker that is already running.
        return self if self._data_dir is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> KafkaBroker:
        """Start the broker and return once it answers metadata requests; returns self."""
        if self._data_dir is not None:
            raise BrokerError("this KafkaBroker is already started")
        self._classpath = str(ensure_kafka_jars(self._version) / "*")
        java = shutil.which("java")
        if java is None:
            raise BrokerError("cannot start Kafka: `java` (17 or newer) is not on PATH")
        self._java = java
        self._data_dir = Path(tempfile.mkdtemp(prefix="streamer-kafka-"))
        _LIVE_BROKERS.add(self)
        try:
            for attempt in range(1, _BIND_ATTEMPTS + 1):
                try:
                    self._start_once()
                    return self
                except BrokerError:
                    port_taken = "Address already in use" in self.log_tail()
                    if not port_taken or self._requested_port or attempt == _BIND_ATTEMPTS:
                        raise
                    self._terminate(timeout=0)
                    shutil.rmtree(self._data_dir, ignore_errors=True)
                    self._data_dir.mkdir()
        except BaseException:
            self.stop(timeout=0)
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the JVM (SIGKILL after ``timeout`` seconds; 0 kills at once), remove the data dir.

        Safe to call twice and on a broker that failed to start.
        """
        self._close_admin()
        self._terminate(timeout)
        if self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)
            self._data_dir = None
        self._port = 0
        _LIVE_BROKERS.discard(self)

    def restart(self, timeout: float = 10.0) -> None:
        """Stop the JVM and start a new one on the same ports and data (topics, offsets survive)."""
        if self._data_dir is None:
            raise BrokerError("this KafkaBroker is not started")
        self._close_admin()
        self._terminate(timeout)
        self._launch()
        self._wait_until_ready()

    def pause(self) -> None:
        """Freeze the JVM (SIGSTOP): connections stay open but nothing answers, as in a hang."""
        process = self._require_process()
        os.killpg(process.pid, signal.SIGSTOP)
        os.kill(process.pid, signal.SIGCONT)  # the reaper itself must keep watching

    def resume(self) -> None:
        """Undo :meth:`pause`."""
        os.killpg(self._require_process().pid, signal.SIGCONT)

    # -- internals -------------------------------------------------------------------------------

    def _start_once(self) -> None:
        assert self._data_dir is not None
        self._port = self._requested_port or _free_port()
        self._controller_port = _free_port()
        while self._controller_port == self._port:
            self._controller_port = _free_port()
        self._cluster_id = _new_cluster_id()
        (self._data_dir / "logs").mkdir(exist_ok=True)
        write_configuration(
            self._data_dir, self._port, self._controller_port, self._extra_properties
        )
        self._format_storage()
        self._launch()
        self._wait_until_ready()

    def _java_command(self, main_class: str, *arguments: str) -> list[str]:
        assert self._data_dir is not None
        return [
            self._java,
            *self._jvm_options,
            f"-Dlog4j2.configurationFile={self._data_dir / 'log4j2.properties'}",
            "-cp",
            self._classpath,
            main_class,
            *arguments,
        ]

    def _format_storage(self) -> None:
        assert self._data_dir is not None
        properties = str(self._data_dir / "server.properties")
        command = self._java_command(
            "kafka.tools.StorageTool",
            "format",
            f"--cluster-id={self._cluster_id}",
            f"--config={properties}",
        )
        try:
            done = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=self._start_timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise self._failure("formatting the storage timed out") from exc
        output = (done.stdout + done.stderr).decode("utf-8", "replace")
        (self._data_dir / "logs" / "console.log").write_text(output)
        if done.returncode != 0:
            raise self._failure(f"formatting the storage failed (exit {done.returncode})")

    def _launch(self) -> None:
        assert self._data_dir is not None
        command = [
            sys.executable,
            str(_REAPER),
            "--cleanup",
            str(self._data_dir),
            "--",
            *self._java_command("kafka.Kafka", str(self._data_dir / "server.properties")),
        ]
        with (self._data_dir / "logs" / "console.log").open("ab") as console:
            # The pipe is the reaper's lifeline: its write end stays here, unwritten, until we exit.
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_until_ready(self) -> None:
        process = self._require_process()
        deadline = time.monotonic() + self._start_timeout
        while True:
            returncode = process.poll()
            if returncode is not None:
                raise self._failure(f"the broker exited with status {returncode} while starting")
            if time.monotonic() >= deadline:
                raise self._failure(f"the broker did not answer within {self._start_timeout:.0f}s")
            if self._accepts_connections() and self._answers_metadata():
                return
            time.sleep(0.05)

    def _accepts_connections(self) -> bool:
        # Probing the socket first keeps librdkafka from logging "connection refused" meanwhile.
        try:
            with socket.create_connection((HOST, self._port), timeout=0.5):
                return True
        except OSError:
            return False

    def _answers_metadata(self) -> bool:
        try:
            metadata = self._admin().list_topics(timeout=2.0)
        except KafkaException:
            return False
        # The cluster id proves it is our broker, not another process that took the port.
        return bool(metadata.cluster_id == self._cluster_id and NODE_ID in metadata.brokers)

    def _require_process(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise BrokerError("the Kafka broker is not running")
        return self._process

    def _terminate(self, timeout: float) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGCONT)  # a paused JVM cannot act on SIGTERM
                os.killpg(process.pid, signal.SIGTERM if timeout > 0 else signal.SIGKILL)
                process.wait(timeout if timeout > 0 else None)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            except ProcessLookupError:
                process.wait()
        assert process.stdin is not None
        process.stdin.close()

    def _failure(self, reason: str) -> BrokerError:
        tail = self.log_tail()
        # Put the cause first: in a 60-line tail of stack traces it is easy to miss.
        cause = next(
            (
                line.strip()
                for line in tail.splitlines()
                if " ERROR " in line or "Exception" in line
            ),
            None,
        )
        headline = f"Kafka {self._version} broker failed to start: {reason}"
        if cause:
            headline += f"\nfirst error: {cause}"
        return BrokerError(f"{headline}\n{tail}")


def start_local_broker(
    *,
    port: int | None = None,
    extra_properties: Mapping[str, str] | None = None,
    start_timeout: float = 90.0,
) -> KafkaBroker:
    """Start a :class:`KafkaBroker` for ``streamer demo``; the caller stops it (or uses ``with``).

    ``port`` fixes the client port (e.g. 9092, so other tools can connect); None picks a free one.
    """
    broker = KafkaBroker(port=port, extra_properties=extra_properties, start_timeout=start_timeout)
    return broker.start()


_LIVE_BROKERS: set[KafkaBroker] = set()


@atexit.register
def _stop_live_brokers() -> None:
    for broker in list(_LIVE_BROKERS):
        broker.stop(timeout=5.0)
