"""The log summariser: one line per key per window, with the count since the last line."""

from __future__ import annotations

import logging

import pytest

from streamer.observability import LogSummariser
from streamer.testing import FakeClock

# Each step: (seconds to advance, what to do, lines expected to have been written so far).
# "note K" notes one of key K at offset = the step number; "due" runs flush_due; "all" flush.
_CASES: dict[str, list[tuple[float, str, int]]] = {
    "the first note is written at once": [(0, "note a", 1)],
    "notes inside the window only count": [(0, "note a", 1), (1, "note a", 1), (8, "note a", 1)],
    "the first note after the window writes the count": [
        (0, "note a", 1), (1, "note a", 1), (9.5, "note a", 2)],
    "keys have windows of their own": [(0, "note a", 1), (1, "note b", 2), (1, "note a", 2)],
    "flush_due writes what waited a whole window": [
        (0, "note a", 1), (1, "note a", 1), (5, "due", 1), (4, "due", 2), (20, "due", 2)],
    "flush writes everything held, and nothing twice": [
        (0, "note a", 1), (1, "note a", 1), (0, "all", 2), (0, "all", 2)],
}


@pytest.mark.parametrize("steps", list(_CASES.values()), ids=list(_CASES))
def test_lines_per_window(steps: list[tuple[float, str, int]]) -> None:
    clock = FakeClock()
    summary = LogSummariser(logging.getLogger("test.summary"), what="dead-lettered",
                            window_s=10.0, clock=clock)
    for number, (advance, action, lines) in enumerate(steps):
        clock.advance(advance)
        if action.startswith("note "):
            summary.note("decode", action[5:], "events", 3, number, status=400)
        elif action == "due":
            summary.flush_due()
        else:
            summary.flush()
        assert summary.lines == lines, (number, action)


def test_a_line_has_the_count_the_example_and_the_detail(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    summary = LogSummariser(logging.getLogger("test.summary"), what="dead-lettered",
                            window_s=10.0, clock=clock)
    with caplog.at_level(logging.WARNING, logger="test.summary"):
        summary.note("deliver", "retries_exhausted", "events", 1, 40, status=503,
                     detail="retries exhausted after HTTP 503")
        for offset in range(41, 45):
            summary.note("deliver", "retries_exhausted", "events", 2, offset, status=503,
                         detail="retries exhausted after POST /v1/x: timed out (ReadTimeout)")
        clock.advance(10)
        summary.flush_due()
    first, second = (r.getMessage() for r in caplog.records)
    assert first == ("dead-lettered 1 since start (stage deliver, reason retries_exhausted "
                     "status 503), e.g. events[1]@40: retries exhausted after HTTP 503")
    # The example is the first of the window; the detail is the latest failure described.
    assert second == ("dead-lettered 4 in the last 10s (stage deliver, reason retries_exhausted "
                      "status 503), e.g. events[2]@41: retries exhausted after POST /v1/x: "
                      "timed out (ReadTimeout)")


def test_counts_given_at_once_add_up() -> None:
    clock = FakeClock()
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("test.summary.counts")
    logger.addHandler(Keep())
    logger.propagate = False
    summary = LogSummariser(logger, what="retrying", level=logging.WARNING, clock=clock)
    summary.note("deliver", "http_503", "events", 0, 7, count=500)
    summary.note("deliver", "http_503", "events", 0, 7, count=500)
    summary.note("deliver", "http_503", "events", 0, 7, count=250)
    summary.flush()
    assert [r.split(" (")[0] for r in records] == [
        "retrying 500 since start", "retrying 750 in the last 0s"]
