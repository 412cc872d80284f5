"""What the sandbox keeps of the items it accepted: activities, contacts, profiles, audiences.

* Activities are de-duplicated as Ortto does, on ``message_id`` + ``timestamp`` (both strings):
  a duplicate is accepted in the answer but stored once, and counted. An activity without both
  keys cannot be de-duplicated and is always stored.
* Contacts: every accepted contact item is kept in arrival order (a duplicate too, counted), and
  an upsert view, the *profile*, is kept per identity: ``user_id`` when it is a non-empty string,
  else ``anonymous_id``. A later item overwrites the profile's top-level fields and merges its
  ``traits`` key by key.
* Audiences: created by name through ``/v1/audiences/create`` (exact, case-sensitive name) and
  joined or left by items carrying ``"audience": {"mode", "id"}``. As at Ortto, a contact cannot
  re-enter an audience within 60 seconds of leaving it: such an ``add`` is accepted but ignored,
  and counted.

``retain="keys"`` keeps only the de-duplication keys and the identities (no item bodies), so a
long benchmark runs in bounded memory per distinct event instead of per byte sent.

Not thread-safe by itself: :class:`~streamer.sandbox.SandboxState` calls it under its lock.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

__all__ = ["AUDIENCE_REENTRY_BLOCK_SECONDS", "Retain", "SandboxStore", "identity_of"]

Retain = Literal["items", "keys"]
AUDIENCE_REENTRY_BLOCK_SECONDS = 60.0


def identity_of(item: dict[str, Any]) -> str | None:
    """The profile key of a contact or activity item."""
    user_id = item.get("user_id")
    if type(user_id) is str and user_id:
        return f"user_id:{user_id}"
    anonymous_id = item.get("anonymous_id")
    if type(anonymous_id) is str:
        return f"anonymous_id:{anonymous_id}"
    return None


class SandboxStore:
    """Accepted items, de-duplicated and indexed. Callers hold the state's lock."""

    def __init__(self, retain: Retain = "items") -> None:
        self.retain: Retain = retain
        self.audiences: dict[str, dict[str, Any]] = {}
        """Audience id -> ``{"id", "name"}``."""
        self._audience_ids_by_name: dict[str, str] = {}
        self.clear()

    def clear(self, *, audiences: bool = False) -> None:
        self.activities: list[dict[str, Any]] = []
        self.activity_count = 0
        self.activity_duplicates = 0
        self._activity_keys: set[tuple[str, str]] = set()
        self.contacts: list[dict[str, Any]] = []
        self.contact_count = 0
        self.contact_duplicates = 0
        self._contact_keys: set[tuple[str, str]] = set()
        self.profiles: dict[str, dict[str, Any]] = {}
        self._identities: set[str] = set()
        self.members: dict[str, dict[str, None]] = {}
        self._left_at: dict[tuple[str, str], float] = {}
        self.reentries_blocked = 0
        if audiences:
            self.audiences = {}
            self._audience_ids_by_name = {}

    # -- activities and contacts ----------------------------------------------------------

    def add_activities(self, items: list[dict[str, Any]]) -> int:
        """Store accepted activities; the number that were duplicates."""
        duplicates = 0
        keep = self.retain == "items"
        seen = self._activity_keys
        for item in items:
            message_id = item.get("message_id")
            timestamp = item.get("timestamp")
            if type(message_id) is str and type(timestamp) is str:
                key = (message_id, timestamp)
                if key in seen:
                    duplicates += 1
                    continue
                seen.add(key)
            self.activity_count += 1
            if keep:
                self.activities.append(item)
            if "audience" in item:
                self._apply_audience(item)
        self.activity_duplicates += duplicates
        return duplicates

    def add_contacts(self, items: list[dict[str, Any]]) -> int:
        """Store accepted contacts and upsert their profiles; the number seen before."""
        duplicates = 0
        keep = self.retain == "items"
        seen = self._contact_keys
        for item in items:
            message_id = item.get("message_id")
            timestamp = item.get("timestamp")
            if type(message_id) is str and type(timestamp) is str:
                key = (message_id, timestamp)
                if key in seen:
                    duplicates += 1
                else:
                    seen.add(key)
            self.contact_count += 1
            identity = identity_of(item)
            if keep:
                self.contacts.append(item)
                if identity is not None:
                    self._upsert(identity, item)
            elif identity is not None:
                self._identities.add(identity)
            if "audience" in item:
                self._apply_audience(item)
        self.contact_duplicates += duplicates
        return duplicates

    def _upsert(self, identity: str, item: dict[str, Any]) -> None:
        profile = self.profiles.get(identity)
        traits = item.get("traits")
        if profile is None:
            profile = dict(item)
            profile["traits"] = dict(traits) if isinstance(traits, dict) else {}
            self.profiles[identity] = profile
            return
        merged_traits = profile["traits"]
        profile.update(item)
        if isinstance(traits, dict):
            merged_traits.update(traits)
        profile["traits"] = merged_traits

    @property
    def profile_count(self) -> int:
        return len(self.profiles) if self.retain == "items" else len(self._identities)

    # -- audiences ------------------------------------------------------------------------

    def find_or_create_audience(self, name: str) -> tuple[dict[str, Any], bool]:
        """The audience of this exact name, and whether it was created now."""
        audience_id = self._audience_ids_by_name.get(name)
        if audience_id is not None:
            return self.audiences[audience_id], False
        audience_id = uuid.uuid4().hex[:24]
        audience = {"id": audience_id, "name": name}
        self.audiences[audience_id] = audience
        self._audience_ids_by_name[name] = audience_id
        return audience, True

    def has_audience(self, audience_id: str) -> bool:
        return audience_id in self.audiences

    def _apply_audience(self, item: dict[str, Any]) -> None:
        audience = item["audience"]
        identity = identity_of(item)
        if identity is None:
            return
        audience_id = audience["id"]
        members = self.members.setdefault(audience_id, {})
        now = time.monotonic()
        if audience["mode"] == "remove":
            if identity in members:
                del members[identity]
                self._left_at[(audience_id, identity)] = now
            return
        left_at = self._left_at.get((audience_id, identity))
        if left_at is not None and now - left_at < AUDIENCE_REENTRY_BLOCK_SECONDS:
            self.reentries_blocked += 1
            return
        members[identity] = None

    def audience_view(self) -> list[dict[str, Any]]:
        return [
            {**audience, "members": list(self.members.get(audience_id, {}))}
            for audience_id, audience in self.audiences.items()
        ]
