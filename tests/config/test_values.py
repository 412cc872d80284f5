"""Configuration values are what they look like: YAML 1.2 scalars, JSON mappings, ``${VAR}``
outside ``subscriptions`` only, and every problem of a file in one list."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from streamer import ConfigError
from streamer.config import (
    DEFAULT_RETRYABLE_STATUSES,
    REFUSED_CONSUMER,
    REFUSED_PRODUCER,
    load_config,
    parse_config,
)
from streamer.routing import compile_router
from streamer.sender import RetryPolicy

HEAD = """
kafka:
  bootstrap_servers: 127.0.0.1:9092
  topics: [events]
  dead_letter_topic: events.dlq
ortto:
  api_key: pau-test
"""


def _load(tmp_path: Path, text: str, environ: dict[str, str] | None = None,
          warnings: list[str] | None = None) -> Any:
    path = tmp_path / "streamer.yaml"
    path.write_text(text)
    return load_config(path, environ=environ or {}, warnings=warnings)


def _problems(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text, environ)
    return caught.value.problems


def _track(mapping: str, name: str = "t") -> str:
    return f"""subscriptions:
  - name: {name}
    trigger: type = "track"
    action: trackActivity
    mapping:
{mapping}
"""


def test_yaml_one_one_surprises_stay_what_they_look_like(tmp_path: Path) -> None:
    config = _load(tmp_path, HEAD + _track("""      event: "@path $.event"
      properties:
        a: yes
        b: on
        c: no
        d: off
        e: 012
        f: 1:30
        g: 2024-01-01
        h: 2024-01-01T10:00:00Z
        i: 0x1F
        j: 1_000
        k: ~
        l: true"""))
    (sub,) = config.subscriptions
    assert sub.mapping["properties"] == {
        "a": "yes", "b": "on", "c": "no", "d": "off", "e": 12, "f": "1:30", "g": "2024-01-01",
        "h": "2024-01-01T10:00:00Z", "i": 31, "j": "1_000", "k": None, "l": True,
    }


def test_overrides_read_yaml_one_two_scalars(tmp_path: Path) -> None:
    config = _load(tmp_path, HEAD, {
        "STREAMER__KAFKA__GROUP_ID": "012",  # a string field: the text of a decimal 12
        "STREAMER__KAFKA__POLL_BATCH": "012",
        "STREAMER__ORTTO__CHECK_KEY": "false",
        "STREAMER__METRICS__HOST": "on",
        "STREAMER__DELIVERY__RETRYABLE_STATUSES": "[429, 503]",
    })
    assert config.kafka.poll_batch == 12
    assert config.kafka.group_id == "12"  # a number for a text key is its decimal text
    assert config.ortto.check_key is False
    assert config.metrics.host == "on"  # not True
    assert config.delivery.retryable_statuses == [429, 503]
    config = _load(tmp_path, HEAD, {"STREAMER__KAFKA__GROUP_ID": "'012'"})
    assert config.kafka.group_id == "012"  # quoted: the text itself


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    problems = _problems(tmp_path, HEAD + "batching:\n  max_items: 5\n  max_items: 6\n")
    assert len(problems) == 1
    assert "max_items" in problems[0] and "second time" in problems[0]
    # Merge keys still work, and an explicit key overrides a merged one.
    text = HEAD + "base: &b {max_items: 5, linger_ms: 7}\n"
    problems = _problems(tmp_path, text)
    assert problems == ["base: Extra inputs are not permitted"]
    config = _load(tmp_path, HEAD + "batching: {<<: {max_items: 5, linger_ms: 7}, max_items: 9}\n")
    assert (config.batching.max_items, config.batching.linger_ms) == (9, 7)


def test_variables_are_expanded_outside_subscriptions_only(tmp_path: Path) -> None:
    text = HEAD.replace("pau-test", "${KEY}").replace("events.dlq", "$${not-a-var}") + _track(
        '      event: "@path $.event"\n      properties:\n        home: "home is ${HOME}"\n'
        '        escaped: "$${HOME}"'
    )
    config = _load(tmp_path, text, {"KEY": "pau-secret", "HOME": "/root"})
    assert config.ortto.api_key == "pau-secret"
    assert config.kafka.dead_letter_topic == "${not-a-var}"
    (sub,) = config.subscriptions
    assert sub.mapping["properties"] == {"home": "home is ${HOME}", "escaped": "$${HOME}"}


def test_a_stray_dollar_brace_is_an_error(tmp_path: Path) -> None:
    problems = _problems(tmp_path, HEAD.replace("events.dlq", "dlq-${1}"))
    assert problems[0].startswith("kafka.dead_letter_topic: '${' starts no ${VAR}")


@pytest.mark.parametrize(("value", "said"), [
    (".nan", "NaN"), ("-.inf", "NaN and Infinity"), ("!!binary aGk=", "binary"),
    ("!!timestamp 2024-01-01", "timestamp"), ("!!set {a: null}", "set"),
])
def test_mapping_values_must_be_json(tmp_path: Path, value: str, said: str) -> None:
    problems = _problems(tmp_path, HEAD + _track(f"      properties:\n        x: {value}"))
    assert len(problems) == 1
    assert problems[0].startswith("subscriptions.0.mapping.properties.x: ")
    assert said in problems[0]


@pytest.mark.parametrize("key", [".nan", "12", "true", "null", "!!binary aGk=", "2.5"])
def test_mapping_keys_must_be_strings(tmp_path: Path, key: str) -> None:
    problems = _problems(tmp_path, HEAD + _track(f"      properties:\n        {key}: 1"))
    assert len(problems) == 1
    assert problems[0].startswith("subscriptions.0.mapping.properties: the key ")
    assert "is not a string" in problems[0]


def test_quoted_keys_and_values_compile(tmp_path: Path) -> None:
    config = _load(tmp_path, HEAD + _track(
        '      event: "@path $.event"\n      properties:\n        ".nan": "2024-01-01"\n'
        '        "12": ".inf"'
    ))
    router = compile_router(config.subscriptions)
    assert [r.name for r in router.routes] == ["t"]


def test_every_problem_is_reported_in_one_run(tmp_path: Path) -> None:
    text = HEAD.replace("pau-test", '"pau-test "') + """
batching: {max_items: 0}
delivery:
  backoff_initial_s: 40
  backoff_max_s: 30
  retryable_statuses: [429, 99, 600]
subscriptions:
  - name: same
    trigger: type = "track" and (
    action: trackActivity
  - name: same
    trigger: type = "identify"
    action: sendFax
  - name: other
    trigger: type = "track"
    action: trackActivity
    mapping: {not_a_field: 1}
  - name: broken
    action: trackActivity
"""
    problems = _problems(tmp_path, text)
    keys = [p.split(": ", 1)[0] for p in problems]
    assert "ortto.api_key" in keys
    assert "batching.max_items" in keys
    assert "delivery.backoff_max_s" in keys
    assert "delivery.retryable_statuses.1" in keys and "delivery.retryable_statuses.2" in keys
    assert "subscriptions.1.name" in keys  # the duplicate name
    assert "subscriptions.3.trigger" in keys  # the schema's
    # ... and the compiler's, for the subscriptions the schema let through:
    assert any(p.startswith("subscriptions.0 ('same'): trigger") for p in problems)
    assert any(p.startswith("subscriptions.2 ('other'): mapping") for p in problems)
    assert not any(p.startswith("subscriptions.3 ") for p in problems)
    assert "pau-test" not in "\n".join(problems)


def test_an_unnamed_subscription_is_named_after_its_action(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = HEAD + """subscriptions:
  - trigger: type = "track"
    action: trackActivity
    mapping: {event: "@path $.event"}
  - name: ""
    subscribe: type = "identify"
    partnerAction: upsertContactProfile
"""
    warnings: list[str] = []
    config = _load(tmp_path, text, warnings=warnings)
    assert [s.name for s in config.subscriptions] == ["trackActivity-0", "upsertContactProfile-1"]
    assert len(warnings) == 2 and "subscriptions.0: no name" in warnings[0]
    with caplog.at_level(logging.WARNING, logger="streamer.config"):
        _load(tmp_path, text)  # without a list the warnings are logged
    assert sum("no name" in r.getMessage() for r in caplog.records) == 2


def test_statuses_and_backoff_bounds(tmp_path: Path) -> None:
    config = _load(tmp_path, HEAD + "delivery: {backoff_initial_s: 1, backoff_max_s: 1}\n")
    assert config.delivery.retryable_statuses == list(DEFAULT_RETRYABLE_STATUSES)
    assert RetryPolicy().retryable == frozenset(DEFAULT_RETRYABLE_STATUSES)
    problems = _problems(tmp_path, HEAD + "delivery: {backoff_initial_s: 31}\n")  # max: 30
    assert problems == ["delivery.backoff_max_s: 30 is below delivery.backoff_initial_s (31)"]
    problems = _problems(tmp_path, HEAD + "delivery: {retry_budget_s: .nan}\n")
    assert [p.split(":")[0] for p in problems] == ["delivery.retry_budget_s"]


@pytest.mark.parametrize(("key", "said"), [
    (" pau-test", "whitespace"), ("pau-test\n", "whitespace"), ("pau-tëst", "non-ASCII"),
    ("pau-te st", "space or control"), ("paü-test", "non-ASCII"), ("secret", "not an Ortto key"),
])
def test_a_key_that_cannot_work_is_a_clear_error(key: str, said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"ortto": {"api_key": key}}, environ={}, require_kafka=False)
    (problem,) = caught.value.problems
    assert problem.startswith("ortto.api_key: ") and said in problem
    assert key.strip() not in problem


@pytest.mark.parametrize(("section", "refused"), [
    ("consumer", sorted(REFUSED_CONSUMER)), ("producer", sorted(REFUSED_PRODUCER)),
])
def test_properties_streamer_sets_are_refused(section: str, refused: list[str]) -> None:
    properties: dict[str, Any] = dict.fromkeys(refused, "x")
    properties["security.protocol"] = "SASL_SSL"  # passed through
    raw = {"kafka": {"bootstrap_servers": "b:9092", "topics": ["t"], "dead_letter_topic": "d",
                     section: properties}, "ortto": {"api_key": "pau-x"}}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, environ={})
    problems = caught.value.problems
    assert [p.split(": ", 1)[0] for p in problems] == [f"kafka.{section}.{k}" for k in refused]
    assert all("streamer sets this property itself" in p for p in problems)


def test_refusals_name_the_setting_to_use() -> None:
    raw = {"kafka": {"bootstrap_servers": "b:9092", "topics": ["t"], "dead_letter_topic": "d",
                     "consumer": {"auto.offset.reset": "latest", "group.id": "g",
                                  "group.instance.id": "pod-1", "fetch.max.bytes": {"a": 1}},
                     "producer": {"acks": 1}}, "ortto": {"api_key": "pau-x"}}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, environ={})
    text = "\n".join(caught.value.problems)
    assert "kafka.consumer.auto.offset.reset: " in text and "kafka.start_from" in text
    assert "kafka.consumer.group.id: " in text and "kafka.group_id" in text
    assert "kafka.consumer.fetch.max.bytes: a librdkafka property is a string" in text
    assert "kafka.producer.acks: " in text and "acks=all" in text
    assert "group.instance.id" not in text


def test_start_from_defaults_to_latest_and_is_checked() -> None:
    raw: dict[str, Any] = {"kafka": {"bootstrap_servers": "b:9092", "topics": ["t"],
                                     "dead_letter_topic": "d"}, "ortto": {"api_key": "pau-x"}}
    assert parse_config(raw, environ={}).kafka.start_from == "latest"  # type: ignore[union-attr]
    raw["kafka"]["start_from"] = "beginning"
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, environ={})
    assert caught.value.problems[0].startswith("kafka.start_from: ")
