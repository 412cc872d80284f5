"""The progress of a bounded run: a bar on a terminal, a log line at intervals elsewhere."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import Callable

import pytest

from streamer.cli._progress import follow_progress, print_summary


def _counting(progress: list[int]) -> Callable[[], tuple[int, int]]:
    def sample() -> tuple[int, int]:
        progress[0] += 10
        return min(progress[0], 100), min(progress[0], 100)

    return sample


async def _follow_until(interactive: bool, progress: list[int], seen: Callable[[], bool]) -> None:
    task = asyncio.create_task(follow_progress(
        "replay", 100, _counting(progress), interactive=interactive, interval_s=0.02))
    for _ in range(500):  # progress, not time: stop once the display showed something
        if seen():
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def test_elsewhere_a_log_line_says_done_total_rate_and_eta(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="streamer.replay")
    asyncio.run(_follow_until(False, [0], lambda: len(caplog.records) >= 2))
    message = caplog.records[-1].getMessage()
    assert message.startswith("replay: ") and "/100 offsets" in message
    assert "events/s" in message and "ETA" in message


def test_on_a_terminal_a_bar_counts_done_of_total(monkeypatch: pytest.MonkeyPatch) -> None:
    import rich.console

    screen = io.StringIO()
    original = rich.console.Console

    def console(**kwargs: object) -> rich.console.Console:
        return original(file=screen, force_terminal=True, width=120)

    monkeypatch.setattr(rich.console, "Console", console)
    progress = [0]
    asyncio.run(_follow_until(True, progress, lambda: progress[0] >= 100))
    text = screen.getvalue()
    assert "replay" in text and "100/100" in text and "events/s" in text


def test_an_interrupted_summary_says_where_to_resume(capsys: pytest.CaptureFixture[str]) -> None:
    summary = {
        "status": "interrupted", "consumed": 5, "delivered": 4, "filtered": 1, "skipped": 0,
        "dead_lettered": 0, "dead_lettered_by_reason": {}, "retried": 0, "elapsed_s": 1.0,
        "rate_per_s": 5.0, "group": None,
        "partitions": [{"topic": "t", "partition": 0, "from": 0, "to": 9, "next": 5},
                       {"topic": "t", "partition": 1, "from": 0, "to": 3, "next": 3}],
    }
    print_summary(summary, as_json=False, title="replay")
    out = capsys.readouterr().out
    assert "replay interrupted: consumed 5, delivered 4" in out
    assert "to resume: --from-offset 0=5 --to-offset 0=9\n" in out
