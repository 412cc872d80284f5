"""The sandbox's whole state, and its Python API: configuration, stored items, counters, log.

One :class:`SandboxState` belongs to one :class:`~streamer.sandbox.SandboxServer` (or is shared
by several, if a test wants that). The server mutates it from its event loop; a test reads and
configures it from its own thread (``SandboxServer.run_in_thread``) or coroutine. One
``threading.Lock`` guards each mutation that spans several fields, taken once per request (not
per item), and every read-back returns a copy, so a reader never sees a list change under it.

Lifecycle: built once with its start-up configuration (accepted keys, ban policy, initial fault
plan, retention, limits, intake: ``full`` or the benchmarks' ``lean``, see ``_lean.py``);
changed at run time through the methods below or the HTTP control API;
:meth:`SandboxState.reset` goes back to the start-up configuration and forgets what was received,
except the audiences (a client caches audience ids for as long as it runs; pass
``audiences=True`` to forget them too).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from ._batch import verdict
from ._faults import ENDPOINTS, FaultPlan, FaultRule, FaultSchedule
from ._gate import BanPolicy, Bans, Holds, KeyRing
from ._lean import Intake, IntakeReport, LeanIntake
from ._store import Retain, SandboxStore
from ._types import EndpointStats, RequestRecord, SandboxStats
from ._validate import check_activity, check_contact

__all__ = ["DEFAULT_MAX_BODY_BYTES", "DEFAULT_MAX_ITEMS", "SandboxState"]

DEFAULT_MAX_ITEMS = 500
"""Segment's ``batch_size`` ceiling: the most items one request may carry (else 413)."""
DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024
"""Ortto's published 2 MB request limit (else 413)."""


class _EndpointCounters:
    __slots__ = ("accepted", "bytes", "duplicates", "items", "rejected", "requests", "statuses")

    def __init__(self) -> None:
        self.requests = self.items = self.accepted = self.rejected = 0
        self.duplicates = self.bytes = 0
        self.statuses: dict[str, int] = {}

    def as_dict(self) -> EndpointStats:
        return {
            "requests": self.requests,
            "items": self.items,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "bytes": self.bytes,
            "statuses": dict(self.statuses),
        }


class SandboxState:
    """Everything the sandbox knows. Safe to read and configure from another thread."""

    def __init__(
        self,
        *,
        api_keys: Iterable[str] | None = None,
        ban: bool | BanPolicy = True,
        faults: FaultPlan | Mapping[str, Any] | list[Any] | None = None,
        retain: Retain = "items",
        max_items: int = DEFAULT_MAX_ITEMS,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        partial_status: Literal[200, 207] = 200,
        log_size: int = 1000,
        clock: Callable[[], float] = time.monotonic,
        intake: Intake = "full",
    ) -> None:
        self._lock = threading.Lock()
        self.clock = clock
        """The time of the fault schedule (``start``/``end``, throttle buckets) and of the ban
        (window, duration): ``time.monotonic``, or a fake a test moves itself, so that what
        these tests see does not depend on the machine's speed."""
        self._initial_keys = None if api_keys is None else tuple(api_keys)
        self._initial_faults = FaultPlan.parse(faults)
        self.keys = KeyRing(self._initial_keys)
        self.bans = Bans(ban if isinstance(ban, BanPolicy) else BanPolicy(enabled=ban))
        self.holds = Holds(self._lock)
        self.store = SandboxStore(retain)
        self.faults = FaultSchedule(self._initial_faults, clock=self.clock)
        self.max_items = max_items
        self.max_body_bytes = max_body_bytes
        self.partial_status: int = partial_status
        """HTTP status of an answer that lists item errors: 200 (Ortto's usual) or 207."""
        self.log: deque[RequestRecord] = deque(maxlen=log_size)
        self.lean = LeanIntake(time.time) if intake == "lean" else None
        """The benchmark's intake (``_lean.py``): items counted, neither validated nor stored."""
        self._reset_counters()

    def _reset_counters(self) -> None:
        self.counters = {endpoint: _EndpointCounters() for endpoint in (*ENDPOINTS, "other")}
        self.bad_requests = 0
        self._sequence = 0
        self.started_at = time.time()
        if self.lean is not None:
            self.lean.clear()

    # -- configuration ------------------------------------------------------------------------

    def set_faults(self, plan: FaultPlan | Mapping[str, Any] | list[Any] | None) -> FaultPlan:
        """Replace the fault plan; its schedule starts now."""
        parsed = FaultPlan.parse(plan)
        self.faults = FaultSchedule(parsed, clock=self.clock)
        return parsed

    def clear_faults(self) -> None:
        self.faults = FaultSchedule(FaultPlan(), clock=self.clock)

    def set_ban(self, ban: bool | BanPolicy) -> None:
        """Turn Ortto's ban on bad callers on or off (or change its numbers)."""
        self.bans.policy = ban if isinstance(ban, BanPolicy) else BanPolicy(enabled=ban)
        if not self.bans.policy.enabled:
            self.bans.clear()

    @property
    def ban_enabled(self) -> bool:
        return self.bans.policy.enabled

    def set_key_valid(self, key: str, valid: bool) -> None:
        """Make one key accepted or refused from now on."""
        with self._lock:
            self.keys.set_valid(key, valid)

    def hold(self, count: int = 1, endpoints: Iterable[str] | None = None) -> None:
        """Hold the next ``count`` requests to ``endpoints`` (None: any) until released."""
        self.holds.arm(count, endpoints)

    def release(self, count: int | None = None) -> int:
        """Let held requests go on (None: all, and disarm pending holds). Returns how many."""
        return self.holds.release(count)

    @property
    def held(self) -> int:
        """How many requests are held right now."""
        return self.holds.held

    def wait_held(self, count: int = 1, timeout: float = 10.0) -> bool:
        """Block the calling thread until ``count`` requests are held (never on the loop)."""
        deadline = time.monotonic() + timeout
        while self.holds.held < count:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    def reset(self, *, audiences: bool = False) -> None:
        """Back to the start-up configuration, with nothing received."""
        self.holds.release()
        with self._lock:
            self.store.clear(audiences=audiences)
            self.keys = KeyRing(self._initial_keys)
            self.bans.clear()
            self.faults = FaultSchedule(self._initial_faults, clock=self.clock)
            self.log.clear()
            self._reset_counters()

    # -- used by the server -------------------------------------------------------------------

    def received(self, endpoint: str, size: int) -> None:
        counters = self.counters[endpoint]
        counters.requests += 1
        counters.bytes += size

    def note_bad(self, caller: str, now: float) -> None:
        """A whole request was refused as bad (4xx) or with bad credentials."""
        with self._lock:
            self.bad_requests += 1
            self.bans.note_bad(caller, now)

    def answered(
        self,
        *,
        method: str,
        path: str,
        endpoint: str,
        status: int | None,
        started: float,
        outcome: str,
        items: int = 0,
        errors: int = 0,
    ) -> None:
        """Count the answer and log it. ``status`` None: the connection was closed instead."""
        key = "dropped" if status is None else str(status)
        with self._lock:
            statuses = self.counters[endpoint].statuses
            statuses[key] = statuses.get(key, 0) + 1
            if self.lean is not None:
                self.lean.answered(status, items - errors)
            self._sequence += 1
            self.log.append(
                {
                    "seq": self._sequence,
                    "time": time.time(),
                    "method": method,
                    "path": path,
                    "endpoint": endpoint,
                    "status": status,
                    "outcome": outcome,
                    "items": items,
                    "errors": errors,
                    "duration_ms": round((time.monotonic() - started) * 1000.0, 3),
                }
            )

    def ingest(
        self, endpoint: str, items: list[Any], raw: bytes | None = None
    ) -> list[dict[str, Any]]:
        """Validate, fault and store one request's items; the ``errors`` of the answer.

        ``raw``: the JSON the items were just decoded from. Given, and with no item fault to
        draw, a batch proven valid as a whole (``_batch.py``) is stored without per-item work.
        """
        track = endpoint == "track"
        schedule = self.faults
        rules = schedule.item_rules(endpoint)
        if raw is not None and not rules:
            batch = verdict(items, activity=track)
            if batch is not None:
                with self._lock:
                    store = self.store
                    add_batch = store.add_activity_batch if track else store.add_contact_batch
                    duplicates = add_batch(batch, raw)
                    counters = self.counters[endpoint]
                    counters.items += batch.size
                    counters.accepted += batch.size
                    counters.duplicates += duplicates
                return []
        return self._ingest_items(endpoint, items, rules)

    def ingest_lean(self, endpoint: str, items: list[Any]) -> list[dict[str, Any]]:
        """The lean intake's ``ingest``: item faults drawn, latencies taken, nothing checked
        nor stored; the ``errors`` of the answer."""
        assert self.lean is not None
        schedule = self.faults
        rules = schedule.item_rules(endpoint)
        errors: list[dict[str, Any]] = []
        if rules:
            for index, item in enumerate(items):
                rule = schedule.draw(rules, item)
                if rule is not None:
                    errors.append({"status": rule.effective_status,
                                   "message": rule.effective_message, "index": index})
        with self._lock:
            self.lean.take(items)
            self._count_lean(endpoint, len(items), len(errors))
        return errors

    def ingest_lean_body(self, endpoint: str, raw: bytes) -> int | None:
        """The lean intake's fast way for a body with no item fault to draw: its items counted
        and their latencies taken from the timestamps alone; the number of items, or None
        when the body must go the general way (``ingest_lean`` after a full decode)."""
        assert self.lean is not None
        if self.faults.item_rules(endpoint):
            return None
        stamps = self.lean.stamps(raw)
        if stamps is None or len(stamps) > self.max_items:
            return None
        with self._lock:
            self.lean.take_stamps(stamps)
            self._count_lean(endpoint, len(stamps), 0)
        return len(stamps)

    def _count_lean(self, endpoint: str, items: int, rejected: int) -> None:
        """The endpoint's counters for a request the lean intake took (under the lock)."""
        counters = self.counters[endpoint]
        counters.items += items
        counters.accepted += items - rejected
        counters.rejected += rejected

    def intake_report(self) -> IntakeReport | None:
        """What the lean intake recorded; None with the full intake."""
        if self.lean is None:
            return None
        with self._lock:
            return self.lean.report()

    def _ingest_items(
        self, endpoint: str, items: list[Any], rules: Sequence[FaultRule]
    ) -> list[dict[str, Any]]:
        """The per-item path: each item checked (with its message), faulted, then stored."""
        track = endpoint == "track"
        check: Callable[[Any], str | None] = check_activity if track else check_contact
        schedule = self.faults
        store = self.store
        errors: list[dict[str, Any]] = []
        accepted: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            problem = check(item)
            if (
                problem is None
                and "audience" in item
                and not store.has_audience(item["audience"]["id"])
            ):
                problem = "audience.id: no audience with this id"
            if problem is not None:
                errors.append({"status": 400, "message": problem, "index": index})
                continue
            if rules:
                rule = schedule.draw(rules, item)
                if rule is not None:
                    errors.append(
                        {
                            "status": rule.effective_status,
                            "message": rule.effective_message,
                            "index": index,
                        }
                    )
                    continue
            accepted.append(item)
        with self._lock:
            add = store.add_activities if track else store.add_contacts
            duplicates = add(accepted)
            counters = self.counters[endpoint]
            counters.items += len(items)
            counters.accepted += len(accepted)
            counters.rejected += len(errors)
            counters.duplicates += duplicates
        return errors

    def find_or_create_audience(self, name: str) -> tuple[dict[str, Any], bool]:
        with self._lock:
            audience, created = self.store.find_or_create_audience(name)
            return dict(audience), created

    # -- read-back ------------------------------------------------------------------------

    @property
    def activities(self) -> list[dict[str, Any]]:
        """Stored activities (duplicates once), in arrival order (``retain="items"`` only)."""
        with self._lock:
            return list(self.store.activities)

    @property
    def contacts(self) -> list[dict[str, Any]]:
        """Every accepted contact item, duplicates included, in arrival order."""
        with self._lock:
            return list(self.store.contacts)

    @property
    def profiles(self) -> dict[str, dict[str, Any]]:
        """The upsert view: identity (``user_id:u1`` or ``anonymous_id:a1``) -> profile."""
        with self._lock:
            return {
                identity: {**profile, "traits": dict(profile["traits"])}
                for identity, profile in self.store.profiles.items()
            }

    @property
    def audiences(self) -> list[dict[str, Any]]:
        """Each audience ``{"id", "name", "members"}`` (members are identities)."""
        with self._lock:
            return self.store.audience_view()

    @property
    def duplicates(self) -> int:
        """Activities accepted but not stored again (same ``message_id`` + ``timestamp``)."""
        return self.store.activity_duplicates

    @property
    def requests(self) -> list[RequestRecord]:
        """The request log (the most recent ``log_size`` contract requests), oldest first."""
        with self._lock:
            return list(self.log)

    def stats(self) -> SandboxStats:
        """Counters of everything, as the ``GET /_sandbox/stats`` body."""
        armed = self.holds.armed
        with self._lock:
            store = self.store
            return {
                "uptime": round(time.time() - self.started_at, 3),
                "endpoints": {name: c.as_dict() for name, c in self.counters.items()},
                "activities": store.activity_count,
                "activity_duplicates": store.activity_duplicates,
                "contacts": store.contact_count,
                "contact_duplicates": store.contact_duplicates,
                "profiles": store.profile_count,
                "audiences": len(store.audiences),
                "audience_reentries_blocked": store.reentries_blocked,
                "held": self.holds.held,
                "hold_armed": armed,
                "holds_total": self.holds.total_held,
                "bad_requests": self.bad_requests,
                "bans": self.bans.total,
                "ban_enabled": self.bans.policy.enabled,
                "retain": store.retain,
                "intake": "full" if self.lean is None else "lean",
                "faults": self.faults.describe(),
            }
