"""Who gets in, and who waits: the key ring, Ortto's ban on bad callers, and held requests.

* :class:`KeyRing`: the keys the sandbox accepts. By default any key of the valid shape
  (``pau-...``, ``-`` at index 3); or an explicit set. Any key can be refused or granted at run
  time (``POST /_sandbox/key``), which is how a test makes the key go bad and come back.
* :class:`BanPolicy` / :class:`Bans`: Ortto bans a caller that made ``threshold`` (15) bad
  requests or bad-credential requests within ``window`` (15) seconds, for ``duration`` (15)
  seconds. A caller is a remote address. While banned, every contract request answers 429
  (``code: rate-limit`` with the seconds left) before anything else is looked at.
* :class:`Holds`: "hold the next N matching requests open until released". A held request has
  passed the key check and waits on an :class:`asyncio.Event` of the server's loop;
  :meth:`Holds.release` may be called from any thread (the test thread of
  ``SandboxServer.run_in_thread``), so events are set through ``call_soon_threadsafe``.

Every method takes the state's lock itself or is only called under it; see ``_state.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from ._validate import is_valid_key_shape

__all__ = ["BanPolicy", "Bans", "Holds", "KeyRing"]


class KeyRing:
    """The accepted API keys."""

    def __init__(self, accepted: Iterable[str] | None = None) -> None:
        self.accepted: set[str] | None = None if accepted is None else set(accepted)
        """None: any key of the valid shape."""
        self.granted: set[str] = set()
        self.refused: set[str] = set()

    def accepts(self, key: str | None) -> bool:
        if key is None or key in self.refused:
            return False
        if key in self.granted:
            return True
        if self.accepted is None:
            return is_valid_key_shape(key)
        return key in self.accepted

    def set_valid(self, key: str, valid: bool) -> None:
        if valid:
            self.refused.discard(key)
            self.granted.add(key)
        else:
            self.granted.discard(key)
            self.refused.add(key)


@dataclass(frozen=True, slots=True)
class BanPolicy:
    """Ortto's published rule: 15 bad requests within 15 seconds ban the caller 15 seconds."""

    enabled: bool = True
    threshold: int = 15
    window: float = 15.0
    duration: float = 15.0


class Bans:
    """Bad requests per caller, and the bans they earned."""

    def __init__(self, policy: BanPolicy) -> None:
        self.policy = policy
        self.total = 0
        """How many bans were imposed since the last reset."""
        self._bad: dict[str, deque[float]] = {}
        self._until: dict[str, float] = {}

    def banned_for(self, caller: str, now: float) -> float:
        """Seconds of ban left for this caller (0: not banned)."""
        if not self._until:
            return 0.0
        until = self._until.get(caller)
        if until is None:
            return 0.0
        if now >= until:
            del self._until[caller]
            return 0.0
        return until - now

    def note_bad(self, caller: str, now: float) -> bool:
        """Count one bad request; True when it earned the caller a ban."""
        policy = self.policy
        if not policy.enabled:
            return False
        recent = self._bad.setdefault(caller, deque())
        recent.append(now)
        while recent and now - recent[0] > policy.window:
            recent.popleft()
        if len(recent) < policy.threshold:
            return False
        recent.clear()
        self._until[caller] = now + policy.duration
        self.total += 1
        return True

    def clear(self) -> None:
        self.total = 0
        self._bad.clear()
        self._until.clear()


class _Armed:
    __slots__ = ("endpoints", "remaining")

    def __init__(self, remaining: int, endpoints: frozenset[str] | None) -> None:
        self.remaining = remaining
        self.endpoints = endpoints


class Holds:
    """Requests held open until released."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._armed: list[_Armed] = []
        self._held: list[tuple[asyncio.AbstractEventLoop, asyncio.Event, str]] = []
        self.total_held = 0

    def arm(self, count: int = 1, endpoints: Iterable[str] | None = None) -> None:
        """Hold the next ``count`` requests to one of ``endpoints`` (None: any endpoint)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        chosen = None if endpoints is None else frozenset(endpoints)
        with self._lock:
            self._armed.append(_Armed(count, chosen))

    def take(self, endpoint: str) -> asyncio.Event | None:
        """On the server loop: the event to wait on when this request is to be held."""
        if not self._armed:
            return None
        with self._lock:
            for armed in self._armed:
                if armed.endpoints is None or endpoint in armed.endpoints:
                    armed.remaining -= 1
                    if armed.remaining == 0:
                        self._armed.remove(armed)
                    event = asyncio.Event()
                    self._held.append((asyncio.get_running_loop(), event, endpoint))
                    self.total_held += 1
                    return event
        return None

    def release(self, count: int | None = None, *, disarm: bool = True) -> int:
        """Let the oldest ``count`` held requests go (None: all). Returns how many."""
        with self._lock:
            if disarm and count is None:
                self._armed.clear()
            chosen = self._held if count is None else self._held[:count]
            self._held = [] if count is None else self._held[count:]
        for loop, event, _ in chosen:
            # The loop may already be closed when the server stopped first.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)
        return len(chosen)

    @property
    def held(self) -> int:
        """How many requests are held right now."""
        return len(self._held)

    @property
    def held_endpoints(self) -> list[str]:
        with self._lock:
            return [endpoint for _, _, endpoint in self._held]

    @property
    def armed(self) -> int:
        """How many more requests will be held."""
        with self._lock:
            return sum(armed.remaining for armed in self._armed)
