"""Track Activity (``trackActivity``): record an activity on an Ortto contact.

Items go to ``POST /v1/track``. After validation, two rules of the action itself apply, in this
order: an item whose event name is blank is refused (``Missing event name``), and an item whose
namespace is ``ortto.com`` came from Ortto itself, so it is not sent but counts as delivered
(sending it back would loop).
"""

from __future__ import annotations

from typing import Any

from ._common import common_fields
from ._model import Action, Field, FieldType, Refusal, Skip, Verdict
from ._values import js_trim

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
)
