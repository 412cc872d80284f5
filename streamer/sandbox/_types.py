"""The shapes of what the sandbox reports, shared by :class:`SandboxState` and the control client.

Item bodies stay ``dict[str, Any]``: they are whatever JSON the client sent.
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = ["EndpointStats", "HeldView", "RequestRecord", "SandboxStats"]


class EndpointStats(TypedDict):
    """Counters of one contract endpoint (``identify``, ``track``, ``me``, ``audiences``, or
    ``other`` for unknown paths under ``/v1``)."""

    requests: int
    """Requests received (whatever their answer)."""
    items: int
    """Items in bodies that were parsed (refused requests excluded)."""
    accepted: int
    """Items accepted (stored, or duplicates of stored ones)."""
    rejected: int
    """Items listed in ``errors`` (validation 400s and injected item errors)."""
    duplicates: int
    """Accepted items whose ``message_id`` + ``timestamp`` was seen before."""
    bytes: int
    """Declared body bytes received."""
    statuses: dict[str, int]
    """Answers by HTTP status (``"200"``, ``"429"``...), and ``"dropped"`` connections."""


class RequestRecord(TypedDict):
    """One entry of the bounded request log."""

    seq: int
    time: float
    method: str
    path: str
    endpoint: str
    status: int | None
    outcome: str
    """``ok``, ``partial``, ``bad``, ``unauthorized``, ``banned``, or ``fault:<kind>``."""
    items: int
    errors: int
    duration_ms: float


class SandboxStats(TypedDict):
    uptime: float
    endpoints: dict[str, EndpointStats]
    activities: int
    """Activities stored (each distinct ``message_id`` + ``timestamp`` once)."""
    activity_duplicates: int
    contacts: int
    """Contact items accepted (duplicates included)."""
    contact_duplicates: int
    profiles: int
    audiences: int
    audience_reentries_blocked: int
    held: int
    hold_armed: int
    holds_total: int
    bad_requests: int
    bans: int
    ban_enabled: bool
    retain: str
    intake: str
    """``full`` (validated, stored) or ``lean`` (counted only: see ``_lean.py``)."""
    faults: list[dict[str, Any]]


class HeldView(TypedDict, total=False):
    held: int
    armed: int
    endpoints: list[str]
    reached: bool
