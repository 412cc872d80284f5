"""Fields both Ortto actions share, with the defaults of Segment's presets.

The order of the fields matters twice: it is the key order of the preset mappings, and it is
the order in which validation reports problems with field values (Segment reports them in schema
order). Keep it as Segment declares it.
"""

from __future__ import annotations

from typing import Any

from ._model import Field, FieldType

__all__ = ["common_fields"]


def _path(path: str) -> dict[str, str]:
    return {"@path": path}


def _trait_or_context_trait(path: str) -> dict[str, Any]:
    # Segment reads a contact's address from the event's traits first, then from
    # context.traits (where track events carry them).
    return {
        "@if": {
            "exists": _path(f"$.traits.{path}"),
            "then": _path(f"$.traits.{path}"),
            "else": _path(f"$.context.traits.{path}"),
        }
    }


TIMESTAMP = Field(
    "timestamp", "Timestamp", FieldType.STRING, format="date-time",
    description="Event timestamp; with the message id it lets Ortto de-duplicate activities.",
    default=_path("$.timestamp"),
)
MESSAGE_ID = Field(
    "message_id", "Message ID", FieldType.STRING, description="Message ID",
    default=_path("$.messageId"),
)
USER_ID = Field(
    "user_id", "User ID", FieldType.STRING, required_unless="anonymous_id",
    description="The unique user identifier; required when there is no anonymous id.",
    default=_path("$.userId"),
)
ANONYMOUS_ID = Field(
    "anonymous_id", "Anonymous ID", FieldType.STRING, required_unless="user_id",
    description="Anonymous user identifier; required when there is no user id.",
    default=_path("$.anonymousId"),
)
ENABLE_BATCHING = Field(
    "enable_batching", "Batch data", FieldType.BOOLEAN,
    description="When enabled, events are sent to Ortto in batches.", default=True,
)
IP = Field(
    "ip", "IP Address", FieldType.STRING, format="ipv4", allow_null=True,
    description="The contact's IP address.", default=_path("$.context.ip"),
)
_LOCATION_PARTS = (
    Field("country", "Country", FieldType.STRING, allow_null=True),
    Field("state", "State", FieldType.STRING, allow_null=True),
    Field("city", "City", FieldType.STRING, allow_null=True),
    Field("post_code", "Postcode", FieldType.STRING, allow_null=True),
)
LOCATION = Field(
    "location", "Location", FieldType.OBJECT, allow_null=True,
    properties=_LOCATION_PARTS, additional_properties=False,
    description="The contact's location; takes priority over the IP address at Ortto.",
    default={
        "country": _trait_or_context_trait("address.country"),
        "state": _trait_or_context_trait("address.state"),
        "city": _trait_or_context_trait("address.city"),
        "post_code": _trait_or_context_trait("address.postal_code"),
    },
)
TRAITS = Field(
    "traits", "Custom Contact traits", FieldType.OBJECT,
    description="Custom contact properties (email, phone, first_name, last_name, anything else).",
    default={
        "@if": {
            "exists": _path("$.traits"),
            "then": _path("$.traits"),
            "else": _path("$.context.traits"),
        }
    },
)
AUDIENCE_UPDATE_MODE = Field(
    "audience_update_mode", "Audience update mode", FieldType.STRING, choices=("add", "remove"),
    description="Whether the contact is added to or removed from the subscription's audience.",
    default="add",
)
BATCH_SIZE = Field(
    "batch_size", "Batch Size", FieldType.NUMBER,
    description="Maximum number of items in one request.", default=500,
)


def common_fields() -> tuple[Field, ...]:
    """The shared fields, in Segment's order."""
    return (
        TIMESTAMP, MESSAGE_ID, USER_ID, ANONYMOUS_ID, ENABLE_BATCHING, IP, LOCATION, TRAITS,
        AUDIENCE_UPDATE_MODE, BATCH_SIZE,
    )
