"""The ceiling: a bare confluent-kafka consumer that ``orjson.loads`` every value of a topic.

Run as a child process of its own (``python bench/system/ceiling.py BOOTSTRAP TOPIC TOTAL``),
so that it has an interpreter and a GIL to itself as ``streamer run`` has. Its clock and its
CPU time both start at the first message and stop at the last; it prints one JSON line:
``{"events", "seconds", "cpu_s"}``.
"""

from __future__ import annotations

import resource
import sys
import time
import uuid

import orjson
from confluent_kafka import Consumer


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def consume(bootstrap: str, topic: str, total: int) -> dict[str, float]:
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": f"ceiling-{uuid.uuid4().hex[:8]}",
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
    })
    consumer.subscribe([topic])
    loads = orjson.loads
    seen = 0
    started = cpu_started = 0.0
    deadline = time.monotonic() + 600
    while seen < total and time.monotonic() < deadline:
        messages = consumer.consume(1000, 1.0)
        if messages and not seen:
            started, cpu_started = time.perf_counter(), _cpu()
        for message in messages:
            if message.error() is None:
                loads(message.value())
                seen += 1
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu_started
    consumer.close()
    return {"events": seen, "seconds": seconds, "cpu_s": cpu}


if __name__ == "__main__":
    print(orjson.dumps(consume(sys.argv[1], sys.argv[2], int(sys.argv[3]))).decode(), flush=True)
