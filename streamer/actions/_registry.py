"""The actions streamer knows, by Segment's ``partnerAction`` name.

Adding an action: write its module (an :class:`~streamer.actions.Action` value) and add it to
``_ALL`` below; the configuration, the router, the presets and preview pick it up from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ._model import Action, Preset
from ._track_activity import TRACK_ACTIVITY
from ._upsert_contact import UPSERT_CONTACT

__all__ = ["ACTIONS", "PRESET_ACTIONS", "get_action", "presets"]

_ALL: tuple[Action, ...] = (UPSERT_CONTACT, TRACK_ACTIVITY)

ACTIONS: Mapping[str, Action] = MappingProxyType({a.name: a for a in _ALL})
"""Every action, by name."""

PRESET_ACTIONS: tuple[Action, ...] = (UPSERT_CONTACT, TRACK_ACTIVITY)
"""The actions whose presets apply when a configuration lists no subscriptions, in order."""


def get_action(name: str) -> Action | None:
    """The action called ``name`` (Segment's ``partnerAction``), or ``None``."""
    return ACTIONS.get(name)


def presets() -> list[Preset]:
    """The default subscriptions, in the order Segment creates them."""
    return [action.preset for action in PRESET_ACTIONS]
