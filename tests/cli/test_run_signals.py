"""``streamer run`` stops cleanly on SIGTERM and SIGINT, start-up included: exit 0, no traceback."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from streamer.sandbox import SandboxServer, SandboxState


def _closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed


def _config(endpoint: str, bootstrap: str) -> dict[str, object]:
    return {
        "kafka": {"bootstrap_servers": bootstrap, "topics": ["events"],
                  "dead_letter_topic": "events.dlq"},
        "ortto": {"api_key": "pau-the-right-key", "endpoint": endpoint,
                  "startup_timeout_s": 300},
        "metrics": {"port": None},
    }


def _signal_when(
    config: dict[str, object], tmp_path: Path, sign: str, sig: signal.Signals
) -> tuple[int, str]:
    """Start ``streamer run``, wait until its output shows ``sign``, send ``sig``; the exit
    status and the whole output."""
    path = tmp_path / "streamer.yaml"
    path.write_text(yaml.safe_dump(config))
    out = tmp_path / "streamer.log"
    with out.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamer", "run", "--config", str(path)],
            stdout=sink, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while sign not in out.read_text(errors="replace"):
            assert process.poll() is None, out.read_text(errors="replace")
            assert time.monotonic() < deadline, out.read_text(errors="replace")
            time.sleep(0.05)
        process.send_signal(sig)
        status = process.wait(60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    return status, out.read_text(errors="replace")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_ortto_is_retried_is_a_clean_stop(
    tmp_path: Path, sig: signal.Signals
) -> None:
    nowhere = f"http://127.0.0.1:{_closed_loopback_port()}/v1"
    config = _config(nowhere, f"127.0.0.1:{_closed_loopback_port()}")
    status, output = _signal_when(config, tmp_path, "retrying", sig)
    assert status == 0, output
    assert "Traceback" not in output
    assert "stopped before start-up finished" in output


def test_a_signal_while_the_consumer_connects_is_a_clean_stop(tmp_path: Path) -> None:
    state = SandboxState(api_keys=["pau-the-right-key"], ban=False)
    with SandboxServer(state).run_in_thread() as sandbox:
        # The key is fine; the broker is not there: the consumer keeps trying to connect.
        config = _config(sandbox.url, f"127.0.0.1:{_closed_loopback_port()}")
        status, output = _signal_when(config, tmp_path, "Connection refused", signal.SIGTERM)
    assert status == 0, output
    assert "Traceback" not in output
    assert "SIGTERM received: stopping" in output
