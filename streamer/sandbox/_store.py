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
``retain="items"`` keeps a batch that arrived through the fast path (``_batch.py``) as the
request body it came in, decoded on the first read-back; profiles are upserted then, in arrival
order. Storing thus costs no per-item work, and the collector has no per-item objects to scan.

Not thread-safe by itself: :class:`~streamer.sandbox.SandboxState` calls it under its lock.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import orjson

from ._batch import Batch

__all__ = ["AUDIENCE_REENTRY_BLOCK_SECONDS", "Retain", "SandboxStore", "identity_of"]

Retain = Literal["items", "keys"]
_Pending = list[dict[str, Any]] | tuple[bytes, list[int] | None]
"""Items stored but not yet read: the items, or a request body and which of its items were
stored (None: all). Bodies are decoded on the first read, so that storing a batch costs no
per-item work and keeps no per-item objects (which the garbage collector would scan)."""
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
        self._activities: list[dict[str, Any]] = []
        self._pending_activities: list[_Pending] = []
        self.activity_count = 0
        self.activity_duplicates = 0
        self._activity_keys: set[tuple[str, str]] = set()
        self._contacts: list[dict[str, Any]] = []
        self._pending_contacts: list[_Pending] = []
        self.contact_count = 0
        self.contact_duplicates = 0
        self._contact_keys: set[tuple[str, str]] = set()
        self._profiles: dict[str, dict[str, Any]] = {}
        self._identities: set[str] = set()
        self.members: dict[str, dict[str, None]] = {}
        self._left_at: dict[tuple[str, str], float] = {}
        self.reentries_blocked = 0
        if audiences:
            self.audiences = {}
            self._audience_ids_by_name = {}

    # -- read-back (pending bodies decoded on first read) ---------------------------------

    @property
    def activities(self) -> list[dict[str, Any]]:
        """Stored activities in arrival order (the list itself: copy before handing out)."""
        for item_list in _drain(self._pending_activities):
            self._activities.extend(item_list)
        return self._activities

    @property
    def contacts(self) -> list[dict[str, Any]]:
        """Accepted contacts in arrival order (the list itself: copy before handing out)."""
        self._apply_pending_contacts()
        return self._contacts

    @property
    def profiles(self) -> dict[str, dict[str, Any]]:
        """Identity -> profile (the dict itself: copy before handing out)."""
        self._apply_pending_contacts()
        return self._profiles

    def _apply_pending_contacts(self) -> None:
        for item_list in _drain(self._pending_contacts):
            self._contacts.extend(item_list)
            for item in item_list:
                identity = identity_of(item)
                if identity is not None:
                    self._upsert(identity, item)

    # -- activities and contacts ----------------------------------------------------------

    def add_activities(self, items: list[dict[str, Any]]) -> int:
        """Store accepted activities; the number that were duplicates."""
        duplicates = 0
        kept: list[dict[str, Any]] = []
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
            kept.append(item)
            if "audience" in item:
                self._apply_audience(item)
        if kept and self.retain == "items":
            self._pending_activities.append(kept)
        self.activity_duplicates += duplicates
        return duplicates

    def add_activity_batch(self, batch: Batch, raw: bytes) -> int:
        """Store a batch proven valid (``raw``: the JSON array it was decoded from)."""
        keys = batch.keys
        count = batch.size
        stored: list[int] | None = None  # which items a kept body stands for; None: all
        if keys is not None:
            seen = self._activity_keys
            before = len(seen)
            if self.retain == "keys":
                seen.update(keys)  # only the count is needed: one pass, in C
                count = len(seen) - before
            elif seen.isdisjoint(keys) and len(set(keys)) == len(keys):
                seen.update(keys)  # the usual case: no item was seen before
            else:
                stored = []
                for index, key in enumerate(keys):
                    if key not in seen:
                        seen.add(key)
                        stored.append(index)
                count = len(stored)
        self.activity_count += count
        duplicates = batch.size - count
        self.activity_duplicates += duplicates
        if count and self.retain == "items":
            self._pending_activities.append((raw, stored))
        return duplicates

    def add_contacts(self, items: list[dict[str, Any]]) -> int:
        """Store accepted contacts and upsert their profiles; the number seen before."""
        duplicates = 0
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
            if identity is not None:
                self._identities.add(identity)
            if "audience" in item:
                self._apply_audience(item)
        if items and self.retain == "items":
            self._pending_contacts.append(items)
        self.contact_duplicates += duplicates
        return duplicates

    def add_contact_batch(self, batch: Batch, raw: bytes) -> int:
        """Store a batch of contacts proven valid (``raw``: the JSON array it came from)."""
        duplicates = 0
        if batch.keys is not None:
            seen = self._contact_keys
            before = len(seen)
            seen.update(batch.keys)
            duplicates = batch.size - (len(seen) - before)
        self.contact_count += batch.size
        self._identities.update(_identities(batch))
        if self.retain == "items":
            self._pending_contacts.append((raw, None))
        self.contact_duplicates += duplicates
        return duplicates

    def _upsert(self, identity: str, item: dict[str, Any]) -> None:
        profile = self._profiles.get(identity)
        traits = item.get("traits")
        if profile is None:
            profile = dict(item)
            profile["traits"] = dict(traits) if isinstance(traits, dict) else {}
            self._profiles[identity] = profile
            return
        merged_traits = profile["traits"]
        profile.update(item)
        if isinstance(traits, dict):
            merged_traits.update(traits)
        profile["traits"] = merged_traits

    @property
    def profile_count(self) -> int:
        return len(self._identities)

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


def _drain(pending: list[_Pending]) -> Iterator[list[dict[str, Any]]]:
    """The pending item lists in order, decoding bodies; ``pending`` is emptied."""
    entries = pending[:]
    pending.clear()
    for entry in entries:
        if isinstance(entry, list):
            yield entry
            continue
        raw, stored = entry
        items: list[dict[str, Any]] = orjson.loads(raw)
        yield items if stored is None else [items[index] for index in stored]


def _identities(batch: Batch) -> Iterable[str]:
    """The profile keys of a batch's items (see :func:`identity_of`), in C where it can."""
    user_ids, anonymous_ids = batch.user_ids, batch.anonymous_ids
    if user_ids is not None and "" not in user_ids and None not in user_ids:
        return map("user_id:".__add__, user_ids)  # type: ignore[arg-type]  # no None: checked
    if user_ids is None and anonymous_ids is not None and None not in anonymous_ids:
        return map("anonymous_id:".__add__, anonymous_ids)  # type: ignore[arg-type]
    size = batch.size
    users = user_ids if user_ids is not None else [None] * size
    anonymous = anonymous_ids if anonymous_ids is not None else [None] * size
    return [
        f"user_id:{user_id}" if user_id else f"anonymous_id:{anonymous_id}"
        for user_id, anonymous_id in zip(users, anonymous, strict=True)
        if user_id or anonymous_id is not None
    ]
