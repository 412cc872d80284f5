"""Waiting on progress, not on time: a condition polled until it holds, within a deadline.

A test that sleeps for as long as something "should" take fails on a slower machine; one that
waits for the thing itself only needs a deadline generous enough to mean "it never happened".
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["wait_until"]


def wait_until(
    condition: Callable[[], bool], what: str, timeout: float = 60.0, interval: float = 0.05
) -> None:
    """Return once ``condition()`` is true; raise :class:`AssertionError` naming ``what`` when
    it is still false after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(interval)
