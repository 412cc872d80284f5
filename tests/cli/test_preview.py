"""``streamer preview``: events from a file, what would be sent, printed as JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from streamer.cli import main

CONFIG = """
ortto:
  api_key: pau-preview-key
"""

CUSTOM = """
ortto:
  api_key: pau-preview-key
batching:
  max_items: 2
subscriptions:
  - name: VIP contacts
    subscribe: type = "identify"
    partnerAction: upsertContactProfile
    audience: VIP
    mapping:
      user_id: {"@path": "$.userId"}
      audience_update_mode: add
  - name: Purchases
    subscribe: type = "track" and event = "Order Completed"
    partnerAction: trackActivity
    mapping:
      user_id: {"@path": "$.userId"}
      event: {"@path": "$.event"}
      properties: {"@path": "$.properties"}
"""

EVENTS = [
    {"type": "identify", "userId": "u1", "messageId": "m1", "traits": {"email": "a@b.c"}},
    {"type": "page", "userId": "u1", "name": "Home"},
    {"type": "track", "userId": "u2", "event": "Order Completed", "properties": {"total": 9.5}},
    {"type": "track", "event": "Order Completed"},
    {"type": "track", "userId": "u3", "event": "Signed Up",
     "context": {"app": {"namespace": "ortto.com"}}},
]


@pytest.fixture
def files(tmp_path: Path) -> Any:
    def write(config: str, events: str | list[dict[str, Any]]) -> tuple[Path, Path]:
        config_path = tmp_path / "streamer.yaml"
        config_path.write_text(config)
        events_path = tmp_path / "events.jsonl"
        if isinstance(events, list):
            events = "\n".join(json.dumps(e) for e in events) + "\n"
        events_path.write_text(events)
        return config_path, events_path

    return write


def _preview(capsys: pytest.CaptureFixture[str], config: Path, events: Path) -> tuple[int, Any]:
    status = main(["preview", "--config", str(config), "--events", str(events)])
    out = capsys.readouterr().out
    return status, json.loads(out) if status == 0 else out


def test_presets_preview(files: Any, capsys: pytest.CaptureFixture[str]) -> None:
    status, doc = _preview(capsys, *files(CONFIG, EVENTS))
    assert status == 0
    assert [(r["method"], r["path"], len(r["body"])) for r in doc["requests"]] == [
        ("POST", "/v1/identify", 1), ("POST", "/v1/track", 1)]
    assert doc["requests"][0]["body"][0]["traits"] == {"email": "a@b.c"}
    assert doc["requests"][1]["body"][0]["properties"] == {"total": 9.5}
    assert doc["filtered"] == [{"index": 1, "reason": "no_subscription"}]
    [rejected] = doc["rejected"]
    assert rejected["index"] == 3 and rejected["action"] == "trackActivity"
    assert rejected["subscription"] == "Track Activity" and rejected["status"] == 400
    assert "user_id" in rejected["message"] and "anonymous_id" in rejected["message"]
    assert [(s["index"], s["action"]) for s in doc["skipped"]] == [(4, "trackActivity")]


def test_custom_subscriptions_audience_placeholder_and_chunks(
    files: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    events = [*EVENTS, {"type": "identify", "userId": "u4"}, {"type": "identify", "userId": "u5"}]
    status, doc = _preview(capsys, *files(CUSTOM, events))
    assert status == 0
    assert [(r["subscription"], [i["user_id"] for i in r["body"]]) for r in doc["requests"]] == [
        ("VIP contacts", ["u1", "u4"]), ("VIP contacts", ["u5"]), ("Purchases", ["u2"])]
    audience = doc["requests"][0]["body"][0]["audience"]
    assert audience["mode"] == "add" and "preview" in audience["id"] and "VIP" in audience["id"]
    assert [f["index"] for f in doc["filtered"]] == [1, 4]
    assert [r["index"] for r in doc["rejected"]] == [3]


def test_a_json_array_is_one_batch_too(files: Any, capsys: pytest.CaptureFixture[str]) -> None:
    status, doc = _preview(capsys, *files(CONFIG, json.dumps(EVENTS, indent=2)))
    assert status == 0 and [f["index"] for f in doc["filtered"]] == [1]
    assert len(doc["requests"]) == 2


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ('{"type": "identify", "userId": "u1"}\n{"type": \n', "line 2: not valid JSON"),
        ('{"type": "identify"}\n\n[1, 2]\n', "line 3: not a JSON object"),
        ('[{"type": "identify"}, 5]', "element 1 is not a JSON object"),
        ('[{"type": "identify"}', "not a valid JSON array"),
    ],
)
def test_bad_events_file(
    files: Any, capsys: pytest.CaptureFixture[str], events: str, expected: str
) -> None:
    config, events_path = files(CONFIG, events)
    assert main(["preview", "--config", str(config), "--events", str(events_path)]) == 2
    captured = capsys.readouterr()
    assert expected in captured.err and captured.out == ""


def test_missing_files(tmp_path: Path, files: Any, capsys: pytest.CaptureFixture[str]) -> None:
    config, _ = files(CONFIG, EVENTS)
    assert main(["preview", "--config", str(config), "--events", str(tmp_path / "no")]) == 2
    assert "cannot read events file" in capsys.readouterr().err
    assert main(["preview", "--config", str(tmp_path / "none.yaml"), "--events", "x"]) == 2
    assert "cannot read configuration file" in capsys.readouterr().err


def test_config_problems_are_all_printed(files: Any, capsys: pytest.CaptureFixture[str]) -> None:
    bad = CONFIG + """
subscriptions:
  - name: one
    subscribe: type = "track" and (
    partnerAction: trackActivity
  - subscribe: type = "identify"
    partnerAction: sendFax
"""
    config, events = files(bad, EVENTS)
    assert main(["preview", "--config", str(config), "--events", str(events)]) == 2
    err = capsys.readouterr().err
    assert "subscriptions.0 ('one'): trigger" in err
    # An unnamed subscription is named after its action and position.
    assert "subscriptions.1 ('sendFax-1'): unknown action 'sendFax'" in err


def test_as_a_module_in_a_subprocess(files: Any) -> None:
    config, events = files(CONFIG, EVENTS)
    root = Path(__file__).parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-m", "streamer", "preview", "--config", str(config), "--events",
         str(events), "--compact"],
        capture_output=True, text=True, timeout=60, env=env, cwd=root, check=False,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert len(done.stdout.strip().splitlines()) == 1
    assert [f["index"] for f in doc["filtered"]] == [1] and len(doc["requests"]) == 2
    piped = subprocess.run(
        [sys.executable, "-m", "streamer", "preview", "--config", str(config), "--events", "-",
         "--compact"],
        input=events.read_text(), capture_output=True, text=True, timeout=60, env=env, cwd=root,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout) == doc
    bad = subprocess.run(
        [sys.executable, "-m", "streamer", "preview", "--config", str(config), "--events",
         str(config)],
        capture_output=True, text=True, timeout=60, env=env, cwd=root, check=False,
    )
    assert bad.returncode == 2 and "not valid JSON" in bad.stderr


ONE_AT_A_TIME = """
ortto:
  api_key: pau-preview-key
  integrations:
    names: ["Ortto (Actions)"]
subscriptions:
  - name: Orders
    subscribe: event frobnicates "x" or event starts_with "Order"
    partnerAction: trackActivity
    mapping:
      user_id: {"@path": "$.userId"}
      anonymous_id: {"@path": "$.anonymousId"}
      ip: {"@path": "$.context.ip"}
      event: {"@path": "$.event"}
      enable_batching: false
"""


def test_one_at_a_time_integrations_and_warnings(
    files: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    events = [
        {"type": "track", "userId": "u1", "event": "Order Completed", "context": {"ip": ""}},
        {"type": "track", "userId": "u2", "event": "Order Refunded",
         "integrations": {"Ortto (Actions)": False}},
        {"type": "track", "userId": "", "anonymousId": "a3", "event": "Order Placed",
         "context": {"ip": "001.2.3.4"}},
        {"type": "track", "userId": "u4", "event": "Order Shipped",
         "integrations": {"All": False, "Ortto": True}},
        {"type": "track", "userId": "u5", "event": "Signed Up"},
    ]
    status, doc = _preview(capsys, *files(ONE_AT_A_TIME, events))
    assert status == 0
    # One request per event; the single-event path drops top-level empty strings.
    assert [r["body"] for r in doc["requests"]] == [
        [{"user_id": "u1", "event": "Order Completed", "enable_batching": False}],
        [{"anonymous_id": "a3", "ip": "001.2.3.4", "event": "Order Placed",
          "enable_batching": False}],
    ]
    assert doc["filtered"] == [
        {"index": 1, "reason": "integrations"},
        {"index": 3, "reason": "integrations"},  # "Ortto" is not one of the names configured
        {"index": 4, "reason": "no_subscription"},
    ]
    [warning] = doc["warnings"]
    assert warning.startswith("subscriptions.0 ('Orders'): trigger: 'frobnicates'")
