"""Ortto's actions as data: fields, endpoint, preset, and the per-item rules.

- :data:`ACTIONS` maps Segment's ``partnerAction`` names to :class:`Action` values
  (``upsertContactProfile`` -> ``POST /v1/identify``, ``trackActivity`` -> ``POST /v1/track``).
- :func:`presets` gives the default subscriptions (used when a configuration lists none).
- :func:`compile_processor` turns an action (and an audience id) into the per-item procedure:
  validate as Segment does, clean, apply the action's rules, attach the audience;
  ``single=True`` is the single-event path (a mapping with ``enable_batching: false``), which
  first drops top-level empty strings (:func:`without_empty_strings`).
"""

from ._clean import clean_item, without_empty_strings
from ._model import NO_DEFAULT, Action, Field, FieldType, Preset, Refusal, Skip, Verdict
from ._process import (
    AUDIENCE_MODES,
    Processor,
    audience_tags,
    compile_processor,
    item_checker,
    validator_for,
)
from ._registry import ACTIONS, PRESET_ACTIONS, get_action, presets
from ._specialise import CheckSource, ItemChecker, check_source
from ._track_activity import TRACK_ACTIVITY
from ._upsert_contact import UPSERT_CONTACT
from ._validate import Validator

__all__ = [
    "ACTIONS",
    "AUDIENCE_MODES",
    "NO_DEFAULT",
    "PRESET_ACTIONS",
    "TRACK_ACTIVITY",
    "UPSERT_CONTACT",
    "Action",
    "CheckSource",
    "Field",
    "FieldType",
    "ItemChecker",
    "Preset",
    "Processor",
    "Refusal",
    "Skip",
    "Validator",
    "Verdict",
    "audience_tags",
    "check_source",
    "clean_item",
    "compile_processor",
    "get_action",
    "item_checker",
    "presets",
    "validator_for",
    "without_empty_strings",
]
