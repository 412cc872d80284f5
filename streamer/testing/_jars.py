"""Fetch and cache the jars of the local Apache Kafka broker.

The broker used by the tests and the demo is the real Apache Kafka, run from its Maven Central
artifacts rather than from a downloaded distribution (only package registries are reachable from
CI). The POM shipped beside this module (``kafka-pom.xml``) names ``org.apache.kafka:kafka_2.13``
and a log4j2 backend; ``mvn dependency:copy-dependencies`` copies all their runtime jars into one
directory, which becomes the class path ``DIR/*``.

Lifecycle of the cache, one directory per Kafka version::

    $STREAMER_KAFKA_CACHE (default: $XDG_CACHE_HOME/streamer or ~/.cache/streamer)
    └── kafka-4.4.0/
        ├── pom.xml      copy of kafka-pom.xml (Maven runs here, never inside the package)
        ├── libs/*.jar   the class path
        └── .complete    written last: its absence means "fetch again"

The cache lives outside the repository so that every run (and every clone: CI works in a fresh
clone) reuses it. A fetch holds an exclusive ``flock`` on ``kafka-<version>.lock`` so that two test
runs starting together do not copy into the same directory; the loser of the race waits and then
finds the marker. Because the marker is written only after Maven returned success, an interrupted
download is simply redone.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from streamer._exceptions import BrokerError

__all__ = ["KAFKA_VERSION", "ensure_kafka_jars", "kafka_cache_dir"]

#: The Apache Kafka release the local broker runs; equal to the default in ``kafka-pom.xml``.
KAFKA_VERSION = "4.4.0"

_COMPLETE_MARKER = ".complete"
_FETCH_TIMEOUT_SECONDS = 900.0
_OUTPUT_TAIL_CHARS = 4000


def kafka_cache_dir(version: str = KAFKA_VERSION) -> Path:
    """The directory that holds (or will hold) the jars of Kafka ``version``."""
    override = os.environ.get("STREAMER_KAFKA_CACHE")
    if override:
        root = Path(override).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg) if xdg else Path.home() / ".cache") / "streamer"
    return root / f"kafka-{version}"


def ensure_kafka_jars(version: str = KAFKA_VERSION) -> Path:
    """Return the directory of the broker's jars, fetching them with Maven if not cached yet.

    Raises :class:`BrokerError` when Maven is missing or fails; the message ends with Maven's
    output.
    """
    cache = kafka_cache_dir(version)
    libs = cache / "libs"
    if (cache / _COMPLETE_MARKER).is_file():
        return libs
    cache.mkdir(parents=True, exist_ok=True)
    lock_path = cache.with_name(cache.name + ".lock")
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            # Another process may have completed the fetch while we waited for the lock.
            if not (cache / _COMPLETE_MARKER).is_file():
                _fetch(version, cache, libs)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return libs


def _fetch(version: str, cache: Path, libs: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerError(
            "cannot fetch the Kafka broker jars: `mvn` (Apache Maven) is not on PATH; "
            "install it (Debian: apt-get install maven) or point STREAMER_TEST_BOOTSTRAP "
            "at a running broker"
        )
    # Leftovers of an interrupted fetch may be partial or stale jars: start from nothing.
    shutil.rmtree(libs, ignore_errors=True)
    pom = cache / "pom.xml"
    pom.write_bytes(resources.files("streamer.testing").joinpath("kafka-pom.xml").read_bytes())
    command = [
        mvn,
        "-q",
        "-B",
        "-Dstyle.color=never",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={libs}",
        "-DincludeScope=runtime",
        f"-Dkafka.version={version}",
    ]
    try:
        completed = subprocess.run(
            command,
            cwd=cache,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_FETCH_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BrokerError(
            f"fetching the Kafka {version} jars with Maven took more than "
            f"{_FETCH_TIMEOUT_SECONDS:.0f}s"
        ) from exc
    output = (completed.stdout + completed.stderr)[-_OUTPUT_TAIL_CHARS:]
    if completed.returncode != 0:
        raise BrokerError(
            f"fetching the Kafka {version} jars failed (mvn exit {completed.returncode}):\n{output}"
        )
    if not any(libs.glob(f"kafka_2.13-{version}.jar")):
        raise BrokerError(f"Maven finished but {libs} has no kafka_2.13-{version}.jar:\n{output}")
    (cache / _COMPLETE_MARKER).write_text(f"org.apache.kafka:kafka_2.13:{version}\n")
