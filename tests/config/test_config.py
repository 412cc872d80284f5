from __future__ import annotations

from pathlib import Path

import pytest

from streamer import ConfigError
from streamer.config import load_config, parse_config

BASE = """
kafka:
  bootstrap_servers: 127.0.0.1:9092
  topics: [events]
  dead_letter_topic: events.dlq
ortto:
  api_key: ${ORTTO_KEY}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "streamer.yaml"
    path.write_text(text)
    return path


def test_defaults_and_secret_expansion(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, BASE), environ={"ORTTO_KEY": "pau-secret"})
    assert config.ortto.api_key == "pau-secret"
    assert config.batching.max_items == 500
    assert config.kafka is not None and config.kafka.group_id == "streamer"
    assert config.subscriptions is None  # the presets
    assert "pau-secret" not in repr(config)


def test_missing_variable_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, BASE), environ={})
    assert "ortto.api_key" in str(caught.value)
    assert "ORTTO_KEY" in str(caught.value)


def test_default_value_in_expansion(tmp_path: Path) -> None:
    text = BASE.replace("${ORTTO_KEY}", "${ORTTO_KEY:-pau-fallback}")
    assert load_config(_write(tmp_path, text), environ={}).ortto.api_key == "pau-fallback"


def test_environment_overrides_keep_types(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, BASE), environ={
        "ORTTO_KEY": "pau-x",
        "STREAMER__BATCHING__MAX_ITEMS": "100",
        "STREAMER__KAFKA__BOOTSTRAP_SERVERS": "broker:9093",
        "STREAMER__ORTTO__ENDPOINT": "http://127.0.0.1:8787/v1",
    })
    assert config.batching.max_items == 100
    assert config.kafka is not None and config.kafka.bootstrap_servers == "broker:9093"
    assert config.ortto.endpoint == "http://127.0.0.1:8787/v1"


def test_every_error_is_reported_with_its_key(tmp_path: Path) -> None:
    text = BASE + "batching:\n  max_items: 0\n  lingr_ms: 5\nkafka_extra: 1\n"
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, text), environ={"ORTTO_KEY": "pau-x"})
    problems = caught.value.problems
    assert any(p.startswith("batching.max_items") for p in problems)
    assert any(p.startswith("batching.lingr_ms") for p in problems)
    assert any(p.startswith("kafka_extra") for p in problems)


def test_segment_export_keys_are_aliases() -> None:
    config = parse_config({
        "ortto": {"api_key": "pau-x"},
        "subscriptions": [{"name": "t", "subscribe": 'type = "track"',
                           "partnerAction": "trackActivity", "mapping": {}}],
    }, environ={}, require_kafka=False)
    assert config.subscriptions is not None
    (sub,) = config.subscriptions
    assert (sub.trigger, sub.action, sub.enabled) == ('type = "track"', "trackActivity", True)


def test_more_than_fifty_subscriptions_is_an_error() -> None:
    subs = [{"trigger": 'type = "track"', "action": "trackActivity"}] * 51
    with pytest.raises(ConfigError, match="subscriptions"):
        parse_config({"ortto": {"api_key": "pau-x"}, "subscriptions": subs}, environ={},
                     require_kafka=False)


def test_run_needs_kafka() -> None:
    with pytest.raises(ConfigError, match="kafka"):
        parse_config({"ortto": {"api_key": "pau-x"}}, environ={})


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="YAML"):
        load_config(_write(tmp_path, "kafka: [unclosed"))
    with pytest.raises(ConfigError, match="mapping"):
        load_config(_write(tmp_path, "- a list"))


def test_the_shipped_example_is_valid_and_compiles() -> None:
    from pathlib import Path

    from streamer.config import load_config
    from streamer.routing import compile_router

    example = Path(__file__).parents[2] / "examples" / "streamer.yaml"
    config = load_config(str(example), environ={"ORTTO_API_KEY": "pau-example"})
    assert config.kafka is not None and config.kafka.bootstrap_servers == "127.0.0.1:9092"
    assert config.delivery.rate_per_s == 20
    router = compile_router(config.subscriptions)
    assert router.audience_names == ("Buyers",)
    assert [r.action for r in router.routes] == ["upsertContactProfile", "trackActivity"]
