"""The jar cache of the local broker: where it lives and when Maven is (not) asked again."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import pytest

from streamer._exceptions import BrokerError
from streamer.testing import KAFKA_VERSION, ensure_kafka_jars, kafka_cache_dir


def test_cache_dir_is_versioned_under_the_override(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STREAMER_KAFKA_CACHE", str(tmp_path))
    assert kafka_cache_dir("9.9.9") == tmp_path / "kafka-9.9.9"


def test_cache_dir_defaults_to_the_user_cache_outside_the_repo(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("STREAMER_KAFKA_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert kafka_cache_dir() == tmp_path / "xdg" / "streamer" / f"kafka-{KAFKA_VERSION}"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert kafka_cache_dir() == Path.home() / ".cache" / "streamer" / f"kafka-{KAFKA_VERSION}"


def test_a_completed_cache_is_reused_without_maven(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STREAMER_KAFKA_CACHE", str(tmp_path))
    cache = tmp_path / "kafka-1.2.3"
    (cache / "libs").mkdir(parents=True)
    (cache / ".complete").write_text("done\n")
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))

    assert ensure_kafka_jars("1.2.3") == cache / "libs"


def test_an_interrupted_fetch_is_redone_and_needs_maven(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STREAMER_KAFKA_CACHE", str(tmp_path))
    partial = tmp_path / "kafka-1.2.3" / "libs"
    partial.mkdir(parents=True)
    (partial / "half-a-jar.jar").write_bytes(b"PK")
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))

    with pytest.raises(BrokerError, match="mvn"):
        ensure_kafka_jars("1.2.3")
    assert not (tmp_path / "kafka-1.2.3" / ".complete").exists()


def test_the_shipped_pom_defaults_to_the_version_the_code_runs() -> None:
    pom = resources.files("streamer.testing").joinpath("kafka-pom.xml").read_text()
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    version = ET.fromstring(pom).find("m:properties/m:kafka.version", namespace)
    assert version is not None
    assert version.text == KAFKA_VERSION
