"""``streamer check`` and ``streamer --version``: no Kafka, no network, exit 0 or 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from streamer import __version__
from streamer.cli import main

GOOD = """
kafka:
  bootstrap_servers: 127.0.0.1:9   # nothing listens: check never connects
  topics: [events, more-events]
  dead_letter_topic: events.dlq
ortto:
  api_key: pau-x
  endpoint: http://127.0.0.1:9/v1
subscriptions:
  - name: Track
    trigger: type = "track"
    action: trackActivity
    mapping: {event: "@path $.event"}
    audience: Buyers
  - trigger: type = "identify"
    action: upsertContactProfile
"""

BAD = """
kafka:
  bootstrap_servers: 127.0.0.1:9
  topics: [events]
  dead_letter_topic: events.dlq
  consumer: {enable.auto.commit: true}
ortto:
  api_key: " pau-x"
delivery:
  retryable_statuses: [42]
subscriptions:
  - name: Track
    trigger: type = "track" and (
    action: trackActivity
  - name: Track
    trigger: type = "track"
    action: trackActivity
    mapping: {properties: {.nan: 1}}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "streamer.yaml"
    path.write_text(text)
    return path


def test_a_good_configuration_prints_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--config", str(_write(tmp_path, GOOD))]) == 0
    out = capsys.readouterr().out
    assert "OK" in out
    assert "subscriptions  2" in out
    assert "routes         2: Track -> trackActivity, upsertContactProfile-1 -> " in out
    assert "audiences      Buyers" in out
    assert "topics         events, more-events" in out
    assert "warnings       1" in out and "subscriptions.1: no name" in out


def test_every_problem_is_printed_once_with_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--config", str(_write(tmp_path, BAD))]) == 2
    lines = [line.strip() for line in capsys.readouterr().err.splitlines()[1:]]
    keys = [line.split(": ", 1)[0] for line in lines]
    assert keys == [
        "subscriptions.1.mapping.properties",  # not JSON: a NaN key
        "subscriptions.1.name",  # the same name twice
        "ortto.api_key",  # whitespace
        "kafka.consumer.enable.auto.commit",
        "delivery.retryable_statuses.0",
        "subscriptions.0 ('Track')",  # the trigger, from the compiler
    ], lines
    assert "pau-x" not in "\n".join(lines)


def test_version_and_exit_statuses_of_the_installed_command(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "streamer", "--version"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, f"streamer {__version__}")
    done = subprocess.run(
        [sys.executable, "-m", "streamer", "check", "--config", str(_write(tmp_path, BAD))],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 2 and "kafka.consumer.enable.auto.commit" in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "streamer", "check", "--config", str(tmp_path / "absent.yaml")],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 2 and "cannot read" in done.stderr
