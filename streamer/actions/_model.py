"""What an Ortto action is, as data: its fields, its endpoint, its preset and one small hook.

An action is declared once, at import, and never changes. Everything that depends on it (the
validator, the preset subscription, the router's per-route processor) is derived from this data
at start-up, so the per-event code only runs precompiled callables.

The field model mirrors the one Segment's action framework uses, because Segment's behaviour is
the specification: a field has a JSON type, an optional format (``ipv4``, ``date-time``), an
optional closed set of choices, may accept ``null``, may be required always or only when another
field is undefined, and an object field may declare its own sub-fields (closed or open). The
``default`` of a field is its mapping in the preset.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, NamedTuple

__all__ = [
    "NO_DEFAULT",
    "Action",
    "Field",
    "FieldType",
    "Preset",
    "Refusal",
    "Skip",
    "Verdict",
]


class FieldType(StrEnum):
    """The JSON type of a field, as Segment's field definitions spell it."""

    STRING = "string"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    OBJECT = "object"


class _NoDefault:
    """Marks a field without a preset mapping (``None`` is a legitimate default)."""

    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Final = _NoDefault()


@dataclass(frozen=True, slots=True)
class Field:
    """One input field of an action: a key of the item sent to Ortto."""

    key: str
    title: str
    """Label used in validation messages, as Segment shows it (``IP Address must be ...``)."""
    type: FieldType
    description: str = ""
    format: str | None = None
    """``ipv4`` or ``date-time``; checked on string values only."""
    choices: tuple[str, ...] = ()
    """When not empty, the only values accepted."""
    allow_null: bool = False
    required: bool = False
    required_unless: str | None = None
    """Key of another field: this one is required when that one is undefined or empty."""
    properties: tuple[Field, ...] | None = None
    """Sub-fields of an object field; ``None`` means a free-form object."""
    additional_properties: bool = True
    """For an object with ``properties``: whether other keys are kept (else silently dropped)."""
    default: Any = NO_DEFAULT
    """The preset mapping of this field (a literal or a mapping directive)."""

    @property
    def json_types(self) -> tuple[str, ...]:
        """The JSON schema ``type`` of the field, ``null`` included when it is allowed."""
        return (self.type.value, "null") if self.allow_null else (self.type.value,)


class Refusal(NamedTuple):
    """The item must not be sent: the event is rejected with this status and message."""

    status: int
    message: str


class Skip(NamedTuple):
    """The item must not be sent but counts as delivered (e.g. loop prevention)."""

    reason: str


Verdict = Refusal | Skip
"""What an action's ``prepare`` hook may say about a valid item instead of accepting it."""


@dataclass(frozen=True, slots=True)
class Preset:
    """A default subscription: what Segment proposes when the destination is added."""

    name: str
    trigger: str
    action: str
    mapping: Mapping[str, Any]

    def as_subscription(self) -> dict[str, Any]:
        """The preset in Segment's export shape (``subscribe``, ``partnerAction``)."""
        return {
            "name": self.name,
            "subscribe": self.trigger,
            "partnerAction": self.action,
            "mapping": _deep_copy(self.mapping),
        }


@dataclass(frozen=True, slots=True, eq=False)
class Action:
    """One Ortto action: what the items look like and where they are sent.

    ``prepare`` runs on an item that passed validation and cleaning, and may refuse or skip it
    (the per-item part of the action's perform step); the request itself is the sender's job.
    """

    name: str
    """Segment's ``partnerAction`` name, e.g. ``trackActivity``."""
    title: str
    path: str
    """Endpoint below the versioned base URL, e.g. ``/track``."""
    fields: tuple[Field, ...]
    preset_name: str
    preset_trigger: str
    description: str = ""
    prepare: Callable[[dict[str, Any]], Verdict | None] | None = None
    """``None`` when the action has no rule of its own (nothing to call per item)."""
    prepare_doubt: Callable[[Callable[[str], str]], str] | None = None
    """``prepare``'s rules as a test the router writes into its generated code (no call per
    item): ``prepare_doubt(value)`` is the source of a Python expression that is false only
    for an item ``prepare`` accepts (returns ``None`` for), ``value(key)`` being the name
    holding the validated value of the item's ``key`` (``MISSING`` when absent). Where it is
    true, ``prepare`` itself decides. ``None``: the generated code calls ``prepare``."""
    _by_key: Mapping[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = [f.key for f in self.fields]
        if len(set(keys)) != len(keys):
            raise ValueError(f"action {self.name}: duplicate field keys")
        object.__setattr__(self, "_by_key", {f.key: f for f in self.fields})

    def field(self, key: str) -> Field | None:
        """The field named ``key``, or ``None`` when the action has no such field."""
        return self._by_key.get(key)

    @property
    def preset(self) -> Preset:
        """The preset subscription: every field with a default, in field order."""
        mapping = {f.key: _deep_copy(f.default) for f in self.fields if f.default is not NO_DEFAULT}
        return Preset(self.preset_name, self.preset_trigger, self.name, mapping)


def _deep_copy(value: Any) -> Any:
    # Presets are handed to the mapping compiler and to users; they must never share state with
    # the action definitions (a caller mutating one must not change the other).
    if isinstance(value, Mapping):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_deep_copy(v) for v in value]
    return value
