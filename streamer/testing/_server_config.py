"""The configuration files of the local broker: ``server.properties`` and ``log4j2.properties``.

Kept apart from the process lifecycle (_broker.py) because this is the part a reader tunes: what
the broker is, and how it is made fast and small for tests. Both files are written into the
broker's data dir before the storage is formatted, and read again by every (re)start.

Settings chosen for fast, deterministic tests (any can be overridden with ``extra_properties``):

- one node that is both broker and KRaft controller, with a static quorum of itself, listening on
  loopback only (PLAINTEXT for clients, CONTROLLER for the quorum).
- ``auto.create.topics.enable=false``: a topic exists only if a test or the demo created it, so a
  misspelt topic fails loudly instead of appearing empty; create topics with ``create_topic``.
- internal topics (offsets, transactions, share state) have one partition and one replica, so the
  first consumer group does not wait for 50 offset partitions to be created.
- ``group.initial.rebalance.delay.ms=0`` and ``group.min.session.timeout.ms=1000``: a consumer may
  use ``session.timeout.ms`` down to 1 s and the first join is not held back (the same minimum for
  the KIP-848 ``consumer`` protocol, whose broker-side heartbeat interval may go down to 500 ms).
- 1 MiB segments, a 4 MiB cleaner buffer, 2 network and 2 I/O threads: a small footprint on a
  2-core machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

__all__ = ["HOST", "NODE_ID", "write_configuration"]

HOST = "127.0.0.1"
NODE_ID = 1

_LOG4J2_PROPERTIES = """\
# Written by streamer.testing: the broker logs to a file that BrokerError quotes on failure.
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log_path}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
# Each component dumps its whole configuration at INFO; unknown keys still warn.
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
"""


def server_properties(
    data_dir: Path, port: int, controller_port: int, extra: Mapping[str, str]
) -> dict[str, str]:
    """The broker's settings; ``extra`` overrides or adds keys."""
    controller = f"{HOST}:{controller_port}"
    properties = {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.quorum.voters": f"{NODE_ID}@{controller}",
        "listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{controller}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir / "kraft"),
        "auto.create.topics.enable": "false",
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "share.coordinator.state.topic.num.partitions": "1",
        "group.initial.rebalance.delay.ms": "0",
        "group.min.session.timeout.ms": "1000",
        "group.consumer.min.session.timeout.ms": "1000",
        "group.consumer.min.heartbeat.interval.ms": "500",
        "log.segment.bytes": str(1024 * 1024),
        "log.index.size.max.bytes": str(1024 * 1024),
        "log.cleaner.dedupe.buffer.size": str(4 * 1024 * 1024),
        "num.network.threads": "2",
        "num.io.threads": "2",
        "num.recovery.threads.per.data.dir": "1",
    }
    properties.update(extra)
    return properties


def write_configuration(
    data_dir: Path, port: int, controller_port: int, extra: Mapping[str, str]
) -> None:
    """Write ``server.properties`` and ``log4j2.properties`` into ``data_dir``."""
    properties = server_properties(data_dir, port, controller_port, extra)
    # Java properties files treat a backslash as an escape; nothing else here needs quoting.
    lines = [f"{key}={value.replace(chr(92), chr(92) * 2)}" for key, value in properties.items()]
    (data_dir / "server.properties").write_text("\n".join(lines) + "\n")
    (data_dir / "log4j2.properties").write_text(
        _LOG4J2_PROPERTIES.format(log_path=data_dir / "logs" / "server.log")
    )
