"""``python -m streamer.testing fetch|fetch-registry|tools|run``: pre-fetch the broker's jars,
the schema registry used by the Avro tests or the chart's checking tools, or run a broker by hand.

``fetch`` is what CI calls before the tests, so that Maven's download is neither inside a test's
timeout nor repeated; ``tools`` does the same for helm, kubeconform, promtool and the schemas
that ``tests/helm/`` use (minutes cold, instant warm). ``run`` starts a broker and prints its
address until Ctrl-C (or SIGTERM), for poking at streamer by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import time

from streamer._exceptions import BrokerError, ToolError
from streamer.testing._broker import start_local_broker
from streamer.testing._jars import KAFKA_VERSION, ensure_kafka_jars
from streamer.testing._registry import APICURIO_VERSION, ensure_registry_app
from streamer.testing._tools import ensure_chart_tools, tools_cache_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m streamer.testing")
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("fetch", help="download the Kafka jars into the cache")
    fetch.add_argument("--version", default=KAFKA_VERSION)
    registry = commands.add_parser(
        "fetch-registry", help="download the schema registry (Apicurio) into the cache")
    registry.add_argument("--version", default=APICURIO_VERSION)
    commands.add_parser("tools", help="build or download the chart's checking tools")
    run = commands.add_parser("run", help="start a local broker until interrupted")
    run.add_argument("--port", type=int, default=None, help="client port (default: a free one)")
    arguments = parser.parse_args(argv)

    try:
        if arguments.command == "fetch":
            started = time.monotonic()
            libs = ensure_kafka_jars(arguments.version)
            jars = len(list(libs.glob("*.jar")))
            print(f"{jars} jars in {libs} ({time.monotonic() - started:.1f}s)")
            return 0
        if arguments.command == "fetch-registry":
            started = time.monotonic()
            app = ensure_registry_app(arguments.version)
            print(f"Apicurio Registry in {app} ({time.monotonic() - started:.1f}s)")
            return 0
        if arguments.command == "tools":
            started = time.monotonic()
            ensure_chart_tools()
            print(f"chart tools in {tools_cache_dir()} ({time.monotonic() - started:.1f}s)")
            return 0
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
        with start_local_broker(port=arguments.port) as broker:
            print(
                f"Kafka is up at {broker.bootstrap_servers} (log: {broker.log_path}); Ctrl-C stops"
            )
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait()
        return 0
    except (BrokerError, ToolError) as exc:
        print(exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
