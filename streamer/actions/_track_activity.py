"""Track Activity (``trackActivity``): record an activity on an Ortto contact.

Items go to ``POST /v1/track``. After validation, two rules of the action itself apply, in this
order: an item whose event name is blank is refused (``Missing event name``), and an item whose
namespace is ``ortto.com`` came from Ortto itself, so it is not sent but counts as delivered
(sending it back would loop).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._common import common_fields
from ._model import Action, Field, FieldType, Refusal, Skip, Verdict
from ._values import JS_WHITESPACE, js_trim

__all__ = ["TRACK_ACTIVITY"]

ORTTO_NAMESPACE = "ortto.com"

MISSING_EVENT_NAME = Refusal(400, "Missing event name")
FROM_ORTTO = Skip(f"the activity's namespace is {ORTTO_NAMESPACE}: it came from Ortto (not sent)")


def _prepare(item: dict[str, Any]) -> Verdict | None:
    # Validation has made `event` a string when present; blank means missing to Ortto.
    event = item.get("event")
    if not event or not js_trim(event):
        return MISSING_EVENT_NAME
    if item.get("namespace") == ORTTO_NAMESPACE:
        return FROM_ORTTO
    return None


def _prepare_doubt(value: Callable[[str], str]) -> str:
    # False only where _prepare returns None: an event name that is a string whose first and
    # last characters are not blank (so trimming leaves something), a namespace not Ortto's.
    event, namespace = value("event"), value("namespace")
    return (
        f"{event}.__class__ is not str or not {event} or {event}[0] in {JS_WHITESPACE!r}"
        f" or {event}[-1] in {JS_WHITESPACE!r} or {namespace} == {ORTTO_NAMESPACE!r}"
    )


TRACK_ACTIVITY = Action(
    name="trackActivity",
    title="Track Activity",
    description="Track a contact's activity in Ortto.",
    path="/track",
    fields=(
        *common_fields(),
        Field(
            "event", "Event name", FieldType.STRING, required=True,
            description="Event name", default={"@path": "$.event"},
        ),
        Field(
            "namespace", "Namespace", FieldType.STRING,
            description="Event namespace; ortto.com marks activities that came from Ortto.",
            default={"@path": "$.context.app.namespace"},
        ),
        Field(
            "properties", "Activity properties", FieldType.OBJECT,
            description="Activity attributes.", default={"@path": "$.properties"},
        ),
    ),
    preset_name="Track Activity",
    preset_trigger='type = "track"',
    prepare=_prepare,
    prepare_doubt=_prepare_doubt,
)
