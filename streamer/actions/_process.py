"""From a mapped item to what is sent: validate, clean, the action's own rules, the audience.

This is the per-item half of an action (the request is the sender's half). The steps run in the
order Segment runs them: the framework validates the mapped payload first, then the Ortto
integration cleans it, applies its rules and attaches the audience.

Lifecycle: :func:`compile_processor` is called once per route at start-up; the callable it
returns is the per-event code, with everything it needs bound in advance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from ._clean import without_empty_strings
from ._model import Action, Verdict
from ._specialise import ItemChecker, general_checker, specialise
from ._validate import Validator

__all__ = [
    "AUDIENCE_MODES",
    "Processor",
    "audience_tags",
    "compile_processor",
    "item_checker",
    "validator_for",
]

Processor = Callable[[dict[str, Any]], "dict[str, Any] | Verdict"]
"""Takes a mapped item, returns the item to send or the :data:`Verdict` that replaces it."""

AUDIENCE_MODES = ("add", "remove")
"""The ``audience_update_mode`` values that associate an item with its route's audience."""


@cache
def validator_for(action: Action) -> Validator:
    """The compiled schema of ``action`` (built once per action)."""
    return Validator(action.fields)


def item_checker(action: Action, mapping: Mapping[str, Any] | None = None) -> ItemChecker:
    """Validation and cleaning in one pass, specialised for ``mapping`` when it is known."""
    general = validator_for(action)
    if mapping is None:
        return general_checker(general)
    return specialise(general, action.fields, mapping)


def audience_tags(audience_id: str) -> dict[str, dict[str, str]]:
    """The ``audience`` value of an item, per update mode.

    Built once per route and shared by its items (items are serialised, never modified).
    """
    return {mode: {"mode": mode, "id": audience_id} for mode in AUDIENCE_MODES}


def compile_processor(
    action: Action,
    audience_id: str | None = None,
    *,
    mapping: Mapping[str, Any] | None = None,
    single: bool = False,
) -> Processor:
    """The per-item procedure of ``action``, with its audience id (if any) bound in.

    Given the ``mapping`` that produces the items, validation is specialised for it. (The
    router composes the same parts into its per-route step, so as to make one call less.)
    ``single``: the action's single-event path (Segment's ``Action.execute``, for a mapping
    whose ``enable_batching`` is false), which drops top-level ``""`` values before validating.
    """
    checker = item_checker(action, None if single else mapping)
    check = (lambda item: checker(without_empty_strings(item))) if single else checker
    prepare = action.prepare
    tags = audience_tags(audience_id) if audience_id else None

    def process(item: dict[str, Any]) -> dict[str, Any] | Verdict:
        clean = check(item)
        if type(clean) is not dict:
            return clean  # a Refusal
        if prepare is not None:
            verdict = prepare(clean)
            if verdict is not None:
                return verdict
        if tags is not None:
            tag = tags.get(clean.get("audience_update_mode", ""))
            if tag is not None:
                # A new root: the mapped item may be a value the mapping engine hands out again.
                return {**clean, "audience": tag}
        return clean

    return process
