"""What happens for each answer of Ortto: retry, split, pause, or dead-letter.

| answer                                   | what streamer does                                   |
| ---------------------------------------- | ---------------------------------------------------- |
| 200/207, item not listed in ``errors``   | delivered                                            |
| 200/207, item listed with retryable code | only those items retried (backoff, within budget)    |
| 200/207, item listed with other 4xx      | dead-lettered (stage deliver, Ortto's message)       |
| 200/207 whose body cannot be read        | treated as a 500 for the whole request               |
| 429 (``Retry-After`` / ``try-in-seconds``)| retried after the longer of the hint and the backoff |
| retryable 5xx, 408, 423, timeout, reset   | retried with exponential backoff and full jitter     |
| 413                                      | split in halves and resent; one item alone: rejected |
| 401/403                                  | delivery pauses, the key is probed with backoff;     |
|                                          | nothing dead-lettered, nothing new committed         |
| any other 4xx for the whole request      | every item dead-lettered with that status            |
| retry budget spent                       | dead-lettered with reason ``retries_exhausted``      |

The retryable set follows Segment's framework (408, 423, 429, 500, 502-511) and is configurable.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from enum import Enum

from ..config import DEFAULT_RETRYABLE_STATUSES

__all__ = ["RequestVerdict", "RetryPolicy"]


class RequestVerdict(Enum):
    ANSWERED = "answered"  # read the per-item answer
    RETRY = "retry"
    SPLIT = "split"
    AUTH = "auth"
    REJECT = "reject"


class RetryPolicy:
    __slots__ = ("_rng", "budget_s", "initial_s", "max_s", "retryable")

    def __init__(
        self,
        *,
        retryable: Iterable[int] = DEFAULT_RETRYABLE_STATUSES,
        budget_s: float | None = 300.0,
        initial_s: float = 0.2,
        max_s: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        self.retryable = frozenset(retryable)
        self.budget_s = budget_s
        self.initial_s = initial_s
        self.max_s = max_s
        self._rng = rng or random.Random()

    def verdict(self, status: int) -> RequestVerdict:
        if status in (200, 207):
            return RequestVerdict.ANSWERED
        if status in (401, 403):
            return RequestVerdict.AUTH
        if status == 413:
            return RequestVerdict.SPLIT
        if status in self.retryable or 200 <= status < 300:
            # Another 2xx is not Ortto's contract; the items' fate is unknown: send again.
            return RequestVerdict.RETRY
        return RequestVerdict.REJECT

    def item_retryable(self, status: int) -> bool:
        return status in self.retryable

    def backoff(self, attempt: int, hint_s: float | None = None) -> float:
        """Exponential backoff with full jitter; never shorter than the server's hint."""
        ceiling = min(self.max_s, self.initial_s * (2 ** min(attempt, 30)))
        wait = self._rng.uniform(0, ceiling)
        if hint_s is not None:
            wait = max(wait, hint_s)
        return wait

    def exhausted(self, first_failure: float | None, now: float, wait: float = 0.0) -> bool:
        """Whether waiting ``wait`` more seconds would pass the budget (None: never)."""
        if self.budget_s is None or first_failure is None:
            return False
        return now + wait - first_failure > self.budget_s
