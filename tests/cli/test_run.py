"""``streamer run``: start-up errors are clear and end the process with status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from streamer.sandbox import SandboxServer, SandboxState


def _run(config: dict[str, object], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "streamer.yaml"
    path.write_text(yaml.safe_dump(config))
    return subprocess.run(
        [sys.executable, "-m", "streamer", "run", "--config", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )


def _config(endpoint: str, key: str) -> dict[str, object]:
    return {
        # No broker is reached: the key is checked before the consumer starts.
        "kafka": {"bootstrap_servers": "127.0.0.1:9", "topics": ["events"],
                  "dead_letter_topic": "events.dlq"},
        "ortto": {"api_key": key, "endpoint": endpoint},
        "metrics": {"port": None},
    }


def test_a_refused_key_is_a_start_up_error(tmp_path: Path) -> None:
    state = SandboxState(api_keys=["pau-the-right-key"], ban=False)
    with SandboxServer(state).run_in_thread() as sandbox:
        done = _run(_config(sandbox.url, "pau-a-wrong-key"), tmp_path)
    assert done.returncode == 2
    assert "check ortto.api_key" in done.stderr
    assert "pau-a-wrong-key" not in done.stderr + done.stdout  # never print the secret


def test_an_invalid_configuration_names_the_key(tmp_path: Path) -> None:
    config = _config("http://127.0.0.1:9/v1", "pau-x")
    config["batching"] = {"max_items": 501, "linger_msec": 5}
    done = _run(config, tmp_path)
    assert done.returncode == 2
    assert "batching.max_items" in done.stderr
    assert "batching.linger_msec" in done.stderr


def test_an_unreachable_ortto_is_retried_then_reported(tmp_path: Path) -> None:
    config = _config("http://127.0.0.1:9/v1", "pau-x")  # port 9: nothing listens
    config["ortto"] = {**config["ortto"], "startup_timeout_s": 1.5}  # type: ignore[dict-item]
    done = _run(config, tmp_path)
    assert done.returncode == 1
    assert "ortto.startup_timeout_s" in done.stderr
    assert "retrying" in done.stderr
    # The endpoint's host and the operating system's reason; never the key.
    assert "http://127.0.0.1:9/v1/me" in done.stderr
    assert "Connection refused" in done.stderr
    assert "pau-x" not in done.stderr


def test_a_key_with_a_trailing_newline_is_refused_before_any_request(tmp_path: Path) -> None:
    done = _run(_config("http://127.0.0.1:9/v1", "pau-secret-key\n"), tmp_path)
    assert done.returncode == 2
    assert "ortto.api_key: starts or ends with whitespace" in done.stderr
    assert "hush" not in done.stderr
    assert "Traceback" not in done.stderr


def test_a_non_ascii_key_is_a_clear_error(tmp_path: Path) -> None:
    done = _run(_config("http://127.0.0.1:9/v1", "pau-s\u00e9cret"), tmp_path)
    assert done.returncode == 2
    assert "ortto.api_key: character 6 is a non-ASCII character" in done.stderr
    assert "Traceback" not in done.stderr
