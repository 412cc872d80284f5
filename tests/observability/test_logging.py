from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from streamer import ConfigError
from streamer.config import parse_config
from streamer.observability import configure_logging


class _Terminal(io.StringIO):
    """A text stream that says it is a terminal, as a developer's stderr does."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_time_level_logger_message_and_coordinates() -> None:
    out = io.StringIO()
    configure_logging("json", "INFO", stream=out)
    log = logging.getLogger("streamer.app")
    log.warning("commit of %s[%d] held back", "events", 3,
                extra={"topic": "events", "partition": 3, "offset": 41})
    log.info("plain")
    log.debug("below the level")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    moment = datetime.fromisoformat(first["time"])
    assert first["time"].endswith("Z") and moment.utcoffset() == UTC.utcoffset(None)
    assert abs((datetime.now(UTC) - moment).total_seconds()) < 60
    assert first == {"time": first["time"], "level": "WARNING", "logger": "streamer.app",
                     "message": "commit of events[3] held back", "topic": "events",
                     "partition": 3, "offset": 41}
    assert set(second) == {"time", "level", "logger", "message"}
    assert second["message"] == "plain"


def test_json_line_holds_the_traceback_on_one_line() -> None:
    out = io.StringIO()
    configure_logging("json", "DEBUG", stream=out)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("streamer.sender").exception("delivery task failed")
    (line,) = out.getvalue().splitlines()
    record = json.loads(line)
    assert record["level"] == "ERROR" and "RuntimeError: boom" in record["exception"]


def test_text_lines_are_utc_with_coordinates() -> None:
    out = io.StringIO()
    configure_logging("text", "INFO", stream=out)
    logging.getLogger("streamer.kafka").info("assigned", extra={"topic": "t", "partition": 0})
    (line,) = out.getvalue().splitlines()
    stamp, level, rest = line.split(" ", 2)
    assert datetime.fromisoformat(stamp).utcoffset() == UTC.utcoffset(None)
    assert (level, rest) == ("INFO", "streamer.kafka: assigned [topic=t partition=0]")


def test_auto_is_text_on_a_terminal_and_json_otherwise() -> None:
    piped, terminal = io.StringIO(), _Terminal()
    configure_logging("auto", "INFO", stream=piped)
    logging.getLogger("streamer").info("hello")
    configure_logging("auto", "INFO", stream=terminal)
    logging.getLogger("streamer").info("hello")
    assert json.loads(piped.getvalue())["message"] == "hello"
    assert terminal.getvalue().rstrip().endswith("INFO streamer: hello")
    # One handler at a time: configuring again replaces, never duplicates.
    assert piped.getvalue().count("hello") == 1


_MINIMAL = {"ortto": {"api_key": "pau-test-key"}}  # preview-shaped: no kafka section


def test_logging_section_defaults_and_validation() -> None:
    config = parse_config(_MINIMAL, require_kafka=False)
    assert (config.logging.format, config.logging.level) == ("auto", "INFO")
    config = parse_config({**_MINIMAL, "logging": {"format": "json", "level": "debug"}},
                          require_kafka=False)
    assert (config.logging.format, config.logging.level) == ("json", "DEBUG")
    with pytest.raises(ConfigError) as caught:
        parse_config({**_MINIMAL, "logging": {"format": "xml"}}, require_kafka=False)
    assert "logging.format" in str(caught.value)
