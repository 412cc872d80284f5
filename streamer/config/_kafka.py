"""librdkafka properties streamer sets itself, refused in ``kafka.consumer`` / ``kafka.producer``.

The guarantees rest on them: offsets are committed by streamer only behind confirmed work (no
auto-commit, no auto offset store), the start of a new group is ``kafka.start_from``, the
dead-letter producer is idempotent with ``acks=all`` and reports every delivery (a reject counts
as done only once the broker has it). Passing one of them through would undo that silently, so
each is a configuration error naming the setting to use instead. Everything else (TLS, SASL,
``group.instance.id``, fetch sizes, ...) is passed through unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["REFUSED_CONSUMER", "REFUSED_PRODUCER", "property_problems"]

_COMMITS = "streamer commits only what is done (see kafka.commit_interval_ms)"
_CALLBACK = "streamer installs its own callback"
_LOGGER = "streamer routes the client's messages to the logger streamer.kafka"

REFUSED_CONSUMER: Mapping[str, str] = {
    "bootstrap.servers": "use kafka.bootstrap_servers",
    "metadata.broker.list": "use kafka.bootstrap_servers",
    "group.id": "use kafka.group_id",
    "enable.auto.commit": _COMMITS,
    "auto.commit.enable": _COMMITS,
    "enable.auto.offset.store": _COMMITS,
    "auto.offset.reset": "use kafka.start_from (where a new group starts); an offset out of "
    "range restarts at the earliest one still kept, so nothing is skipped",
    "default.topic.config": "set topic properties at the top level of kafka.consumer",
    "partition.assignment.strategy": "streamer uses cooperative-sticky",
    "session.timeout.ms": "use kafka.session_timeout_ms",
    "heartbeat.interval.ms": "set from kafka.session_timeout_ms (a quarter of it)",
    "enable.partition.eof": "streamer does not read end-of-partition events",
    "on_commit": _CALLBACK,
    "error_cb": _CALLBACK,
    "stats_cb": _CALLBACK,
    "throttle_cb": _CALLBACK,
    "logger": _LOGGER,
}
"""Consumer properties streamer owns, each with what to do instead."""

_DELIVERIES = "streamer needs every dead letter's delivery report"

REFUSED_PRODUCER: Mapping[str, str] = {
    "bootstrap.servers": "use kafka.bootstrap_servers",
    "metadata.broker.list": "use kafka.bootstrap_servers",
    "acks": "the dead-letter producer uses acks=all",
    "request.required.acks": "the dead-letter producer uses acks=all",
    "enable.idempotence": "the dead-letter producer is idempotent",
    "transactional.id": "the dead-letter producer is not transactional",
    "delivery.report.only.error": _DELIVERIES,
    "dr_cb": _DELIVERIES,
    "dr_msg_cb": _DELIVERIES,
    "on_delivery": _DELIVERIES,
    "default.topic.config": "set topic properties at the top level of kafka.producer",
    "error_cb": _CALLBACK,
    "stats_cb": _CALLBACK,
    "throttle_cb": _CALLBACK,
    "logger": _LOGGER,
}
"""Dead-letter producer properties streamer owns (see ``deadletter/_writer.py``)."""


def property_problems(
    properties: Mapping[str, Any], refused: Mapping[str, str]
) -> list[tuple[str, str]]:
    """``(key, why)`` for each refused or unusable property (the value is never shown)."""
    problems: list[tuple[str, str]] = []
    for key, value in properties.items():
        why = refused.get(key.strip().lower())
        if why is not None:
            problems.append((key, f"streamer sets this property itself; {why}"))
        elif value is None or not isinstance(value, str | int | float | bool):
            problems.append((key, "a librdkafka property is a string, number or boolean"))
    return problems
