"""Fault injection: what can go wrong at Ortto, on purpose, reproducibly.

A :class:`FaultPlan` is data (JSON or YAML, from ``--faults FILE``, ``POST /_sandbox/faults``
or ``SandboxState.set_faults``): a seed and an ordered list of :class:`FaultRule`. Each rule has a
kind, the endpoints it covers, a rate, and a schedule:

* ``start`` / ``end``: seconds after the plan was configured (the rule is active in
  ``[start, end)``);
* ``count``: the rule fires at most ``count`` times (for ``item_error``: on at most ``count``
  requests), then it is spent. With ``rate`` 1 that is "the next N requests".

Kinds and what a client sees:

============== ================================================================================
item_error     per item (drawn at ``rate`` per valid item): ``{"status", "message", "index"}``
               in a 200 answer; the item is NOT stored, whatever the status (400, 429, 500...)
request_error  the whole request answers ``status`` (default 503) with a JSON error body
rate_limit     429, ``Retry-After: N`` and/or ``{"error": {"code": "rate-limit", ...,
               "try-in-seconds": N}}`` (``retry_hint``: both, header, body or none)
throttle       a token bucket of ``rps`` requests per second; above it, 429 as rate_limit
delay          the answer comes ``seconds`` late, or a time drawn uniformly from ``seconds`` to
               ``seconds_max`` for each request; then the request is processed normally, so
               its items are applied when it completes (as Ortto applies them)
hang           the answer is held ``seconds`` (default an hour: past any client timeout), then
               the connection is closed; ``store`` says whether the items were stored first
drop           the connection is closed without an answer; ``store`` as for hang (the answer
               lost, not the request)
unauthorized   the key is refused (401, or ``status`` 403) while the rule is active: a key that
               stops being valid and becomes valid again
============== ================================================================================

Rules are evaluated in order for every contract request: every firing ``delay`` adds up, the
first firing rule of another request-level kind decides the answer. Random draws come from one
``random.Random(seed)``, so a plan replayed with the same requests in the same order gives the
same faults. :class:`FaultSchedule` is the runtime half (clock, counters, token buckets); it is
used from the server's event loop only, and replaced as a whole when a new plan is configured.
Its clock is ``time.monotonic`` unless the state was given another (``SandboxState(clock=...)``,
e.g. a :class:`~streamer.testing.FakeClock`): a test then moves the schedule's time itself, and
``start``/``end`` windows and throttle buckets do not depend on the machine's speed.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "ENDPOINTS",
    "Endpoint",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "FaultSchedule",
    "RequestFaults",
    "load_fault_plan",
]

Endpoint = Literal["identify", "track", "me", "audiences"]
ENDPOINTS: tuple[Endpoint, ...] = ("identify", "track", "me", "audiences")
FaultKind = Literal[
    "item_error", "request_error", "rate_limit", "throttle", "delay", "hang", "drop", "unauthorized"
]

_DEFAULT_STATUS: dict[str, int] = {"item_error": 500, "request_error": 503, "unauthorized": 401}
_DEFAULT_SECONDS: dict[str, float] = {"delay": 1.0, "hang": 3600.0}


class FaultRule(BaseModel):
    """One kind of failure, where and when it happens. See the module docstring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FaultKind
    endpoints: tuple[Endpoint, ...] | None = None
    """Which contract endpoints it covers; None: all four."""
    rate: float = Field(1.0, ge=0.0, le=1.0)
    """Probability per request (per valid item for ``item_error``)."""
    start: float | None = Field(None, ge=0.0)
    end: float | None = Field(None, ge=0.0)
    count: int | None = Field(None, ge=0)
    status: int | None = Field(None, ge=400, le=599)
    message: str | None = None
    retry_after: int = Field(1, ge=0)
    """Seconds announced by ``rate_limit`` (``Retry-After`` and ``try-in-seconds``)."""
    retry_hint: Literal["both", "header", "body", "none"] = "both"
    seconds: float | None = Field(None, ge=0.0)
    """How long a ``delay`` or ``hang`` lasts."""
    seconds_max: float | None = Field(None, ge=0.0)
    """``delay``: the upper end of a random delay per request (``seconds`` is the lower)."""
    store: bool = False
    """``hang``/``drop``: process and store the request before losing the answer."""
    rps: float | None = Field(None, gt=0.0)
    """``throttle``: requests per second allowed (burst of max(1, rps))."""
    sticky: bool = False
    """``item_error``: draw from a hash of the item (its ``message_id``, else its JSON) instead
    of the random source, so an item sent again gets the same answer. Tests that redeliver (a
    restart, a retried request) need a fate that belongs to the item, not to the attempt."""

    @model_validator(mode="after")
    def _consistent(self) -> FaultRule:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        if self.seconds_max is not None:
            if self.kind != "delay":
                raise ValueError("seconds_max is for a delay rule")
            if self.seconds_max < (self.seconds or 0.0):
                raise ValueError("seconds_max must not be below seconds")
        if self.kind == "throttle" and self.rps is None:
            raise ValueError("a throttle rule needs rps")
        if self.kind == "unauthorized" and self.status not in (None, 401, 403):
            raise ValueError("an unauthorized rule answers 401 or 403")
        return self

    @property
    def effective_status(self) -> int:
        if self.kind in ("rate_limit", "throttle"):
            return 429
        return self.status if self.status is not None else _DEFAULT_STATUS.get(self.kind, 500)

    @property
    def effective_seconds(self) -> float:
        return self.seconds if self.seconds is not None else _DEFAULT_SECONDS.get(self.kind, 0.0)

    @property
    def effective_message(self) -> str:
        if self.message is not None:
            return self.message
        status = self.effective_status
        if status == 429:
            return "rate limit"
        if status >= 500:
            return "internal server error (injected)"
        return "bad request (injected)"


class FaultPlan(BaseModel):
    """A seed and the ordered rules. ``FaultPlan()`` is the plan without faults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int | None = None
    rules: tuple[FaultRule, ...] = ()

    @classmethod
    def parse(cls, data: Any) -> FaultPlan:
        """From decoded JSON/YAML: a mapping ``{"seed", "rules"}``, or a bare list of rules."""
        if isinstance(data, FaultPlan):
            return data
        if data is None:
            return cls()
        if isinstance(data, list):
            data = {"rules": data}
        return cls.model_validate(data)


@dataclass(frozen=True, slots=True)
class RequestFaults:
    """What the plan decided for one request before its body is read."""

    delay: float = 0.0
    terminal: FaultRule | None = None
    """The rule that decides the answer (error, 429, hang, drop, refusal), if any."""
    retry_after: int = 0
    """For rate limiting: the seconds to announce."""


_NO_FAULTS = RequestFaults()


class FaultSchedule:
    """The runtime of one plan: its clock origin, the spent counts, the random source."""

    def __init__(
        self,
        plan: FaultPlan,
        *,
        now: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.plan = plan
        self._clock = clock
        self.configured_at = clock() if now is None else now
        self._random = random.Random(plan.seed)
        self._remaining: list[int | None] = [rule.count for rule in plan.rules]
        self.fired: list[int] = [0] * len(plan.rules)
        self._tokens: list[float] = [max(1.0, rule.rps or 0.0) for rule in plan.rules]
        self._refilled_at: list[float] = [self.configured_at] * len(plan.rules)
        self._has_request_rules = any(rule.kind != "item_error" for rule in plan.rules)
        self._has_item_rules = any(rule.kind == "item_error" for rule in plan.rules)

    def _active(self, index: int, rule: FaultRule, endpoint: str, elapsed: float) -> bool:
        if rule.endpoints is not None and endpoint not in rule.endpoints:
            return False
        if rule.start is not None and elapsed < rule.start:
            return False
        if rule.end is not None and elapsed >= rule.end:
            return False
        return self._remaining[index] != 0

    def _spend(self, index: int) -> None:
        self.fired[index] += 1
        remaining = self._remaining[index]
        if remaining is not None:
            self._remaining[index] = remaining - 1

    def decide(self, endpoint: str, now: float | None = None) -> RequestFaults:
        """The request-level faults for one request to ``endpoint``."""
        if not self._has_request_rules:
            return _NO_FAULTS
        now = self._clock() if now is None else now
        elapsed = now - self.configured_at
        delay = 0.0
        for index, rule in enumerate(self.plan.rules):
            if rule.kind == "item_error" or not self._active(index, rule, endpoint, elapsed):
                continue
            if rule.kind == "throttle":
                wait = self._take_token(index, rule, now)
                if wait is None:
                    continue
                self._spend(index)
                return RequestFaults(delay, rule, retry_after=wait)
            if rule.rate < 1.0 and self._random.random() >= rule.rate:
                continue
            self._spend(index)
            if rule.kind == "delay":
                if rule.seconds_max is None:
                    delay += rule.effective_seconds
                else:
                    delay += self._random.uniform(rule.seconds or 0.0, rule.seconds_max)
                continue
            return RequestFaults(delay, rule, retry_after=rule.retry_after)
        return RequestFaults(delay) if delay else _NO_FAULTS

    def _take_token(self, index: int, rule: FaultRule, now: float) -> int | None:
        """None when the request fits the bucket, else the seconds until it would."""
        rps = rule.rps or 1.0
        tokens = min(max(1.0, rps), self._tokens[index] + (now - self._refilled_at[index]) * rps)
        self._refilled_at[index] = now
        if tokens >= 1.0:
            self._tokens[index] = tokens - 1.0
            return None
        self._tokens[index] = tokens
        return max(1, math.ceil((1.0 - tokens) / rps))

    def item_rules(self, endpoint: str, now: float | None = None) -> Sequence[FaultRule]:
        """The ``item_error`` rules that apply to this request (each counts it once)."""
        if not self._has_item_rules:
            return ()
        elapsed = (self._clock() if now is None else now) - self.configured_at
        active: list[FaultRule] = []
        for index, rule in enumerate(self.plan.rules):
            if rule.kind == "item_error" and self._active(index, rule, endpoint, elapsed):
                self._spend(index)
                active.append(rule)
        return active

    def draw(self, rules: Sequence[FaultRule], item: Any = None) -> FaultRule | None:
        """The item rule that fails this item, if one does (the first drawn, in order)."""
        for index, rule in enumerate(rules):
            if rule.rate >= 1.0:
                return rule
            chance = _item_chance(item, index) if rule.sticky else self._random.random()
            if chance < rule.rate:
                return rule
        return None

    def describe(self) -> list[dict[str, Any]]:
        """Each rule with how often it fired and what is left of its count."""
        return [
            {
                **rule.model_dump(exclude_none=True),
                "fired": self.fired[index],
                "remaining": self._remaining[index],
            }
            for index, rule in enumerate(self.plan.rules)
        ]


def _item_chance(item: Any, salt: int) -> float:
    """A number in [0, 1) that depends only on the item (and which rule asks)."""
    key: Any = item.get("message_id") if isinstance(item, dict) else None
    if not isinstance(key, str):
        import orjson

        key = orjson.dumps(item, option=orjson.OPT_SORT_KEYS).decode()
    digest = hashlib.blake2b(f"{salt}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def load_fault_plan(path: str) -> FaultPlan:
    """A plan from a JSON or YAML file (YAML for ``.yaml``/``.yml``, JSON otherwise)."""
    with open(path, "rb") as file:
        raw = file.read()
    if path.endswith((".yaml", ".yml")):
        import yaml

        data = yaml.safe_load(raw)
    else:
        import orjson

        data = orjson.loads(raw)
    return FaultPlan.parse(data)
