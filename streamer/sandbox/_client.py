"""A small synchronous client of the sandbox's control API (``/_sandbox/``).

For tests that run the sandbox in another process (:class:`~streamer.sandbox.SandboxProcess`)
or thread: configure faults, holds and keys, and read back what was received. It speaks only to
the control API, never to the contract endpoints (that is the code under test's job). Built on
``httpx.Client``; close it, or use it as a context manager. Every method raises
``httpx.HTTPStatusError`` when the sandbox refuses the call (the body says why).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, cast

import httpx

from ._faults import FaultPlan
from ._lean import IntakeReport
from ._types import HeldView, RequestRecord, SandboxStats

__all__ = ["SandboxClient"]


def root_of(url: str) -> str:
    """``http://host:port`` from either that or the contract URL ``http://host:port/v1``."""
    root = url.rstrip("/")
    return root.removesuffix("/v1")


class SandboxClient:
    """Drive and read a running sandbox over HTTP."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.root_url = root_of(url)
        self._http = httpx.Client(base_url=f"{self.root_url}/_sandbox", timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SandboxClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        response = self._http.request(
            method,
            path,
            json=json,
            params=params,
            timeout=self._http.timeout if timeout is None else timeout,
        )
        response.raise_for_status()
        return response.json()

    # -- read-back ------------------------------------------------------------------------

    def health(self) -> bool:
        return bool(self._call("GET", "/health").get("ok"))

    def stats(self) -> SandboxStats:
        return cast(SandboxStats, self._call("GET", "/stats"))

    def intake(self) -> IntakeReport:
        """What the lean intake recorded (HTTPStatusError 400 with the full intake)."""
        return cast(IntakeReport, self._call("GET", "/intake"))

    def activities(
        self, *, offset: int = 0, limit: int | None = None, **filters: str
    ) -> list[dict[str, Any]]:
        """Stored activities; ``filters`` compare top-level fields (``event="Signed Up"``)."""
        return self._page("/activities", offset, limit, filters)

    def contacts(
        self, *, offset: int = 0, limit: int | None = None, **filters: str
    ) -> list[dict[str, Any]]:
        """Every accepted contact item (duplicates included)."""
        return self._page("/contacts", offset, limit, filters)

    def _page(
        self, path: str, offset: int, limit: int | None, filters: dict[str, str]
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"offset": offset, **filters}
        if limit is not None:
            params["limit"] = limit
        return cast(list[dict[str, Any]], self._call("GET", path, params=params)["items"])

    def profiles(self) -> dict[str, dict[str, Any]]:
        """The upsert view: identity (``user_id:u1`` / ``anonymous_id:a1``) -> profile."""
        return cast(dict[str, dict[str, Any]], self._call("GET", "/profiles")["profiles"])

    def audiences(self) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], self._call("GET", "/audiences")["audiences"])

    def create_audience(self, name: str) -> dict[str, Any]:
        return cast(dict[str, Any], self._call("POST", "/audiences", json={"name": name}))

    def requests(self, limit: int | None = None) -> list[RequestRecord]:
        params = None if limit is None else {"limit": limit}
        return cast(list[RequestRecord], self._call("GET", "/requests", params=params)["requests"])

    def wait_until(
        self,
        condition: Callable[[SandboxStats], bool],
        timeout: float = 10.0,
        interval: float = 0.02,
    ) -> SandboxStats:
        """Poll the stats until ``condition`` holds; raise TimeoutError with the last stats."""
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if condition(stats):
                return stats
            if time.monotonic() >= deadline:
                raise TimeoutError(f"sandbox condition not met within {timeout}s: {stats}")
            time.sleep(interval)

    # -- configuration --------------------------------------------------------------------

    def faults(self) -> list[dict[str, Any]]:
        """The current rules, each with ``fired`` and ``remaining``."""
        return cast(list[dict[str, Any]], self._call("GET", "/faults")["rules"])

    def set_faults(
        self, plan: FaultPlan | Mapping[str, Any] | list[Any] | None
    ) -> list[dict[str, Any]]:
        """Replace the fault plan (its schedule starts now)."""
        body = plan.model_dump(exclude_none=True) if isinstance(plan, FaultPlan) else plan
        return cast(list[dict[str, Any]], self._call("POST", "/faults", json=body)["rules"])

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def reset(self, *, audiences: bool = False) -> None:
        self._call("POST", "/reset", json={"audiences": audiences})

    def hold(self, count: int = 1, endpoints: Iterable[str] | None = None) -> None:
        """Hold the next ``count`` requests to ``endpoints`` (None: any) until released."""
        body = {"count": count, "endpoints": None if endpoints is None else list(endpoints)}
        self._call("POST", "/hold", json=body)

    def release(self, count: int | None = None) -> int:
        """Let held requests go (None: all, and disarm pending holds); how many went."""
        return int(self._call("POST", "/release", json={"count": count})["released"])

    def held(self) -> HeldView:
        return cast(HeldView, self._call("GET", "/held"))

    def wait_held(self, count: int = 1, timeout: float = 10.0) -> bool:
        """Wait (server-side) until ``count`` requests are held; False on timeout."""
        view = self._call(
            "GET",
            "/held",
            params={"count": count, "timeout": timeout},
            timeout=timeout + 5.0,
        )
        return bool(view["reached"])

    def set_key_valid(self, key: str, valid: bool) -> None:
        """Make one API key accepted or refused from now on."""
        self._call("POST", "/key", json={"key": key, "valid": valid})

    def settings(
        self,
        *,
        ban: bool | Mapping[str, Any] | None = None,
        partial_status: int | None = None,
        max_items: int | None = None,
        max_body_bytes: int | None = None,
    ) -> dict[str, Any]:
        """Change any of these settings; returns the settings now in force."""
        body: dict[str, Any] = {}
        if ban is not None:
            body["ban"] = ban if isinstance(ban, bool) else dict(ban)
        if partial_status is not None:
            body["partial_status"] = partial_status
        if max_items is not None:
            body["max_items"] = max_items
        if max_body_bytes is not None:
            body["max_body_bytes"] = max_body_bytes
        return cast(dict[str, Any], self._call("POST", "/settings", json=body))
