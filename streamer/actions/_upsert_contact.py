"""Upsert Contact (``upsertContactProfile``): create or update an Ortto contact.

Items go to ``POST /v1/identify``. Nothing beyond validation and cleaning can refuse a contact.
"""

from __future__ import annotations

from ._common import common_fields
from ._model import Action

__all__ = ["UPSERT_CONTACT"]

UPSERT_CONTACT = Action(
    name="upsertContactProfile",
    title="Upsert Contact",
    description="Create or update a contact profile in Ortto.",
    path="/identify",
    fields=common_fields(),
    preset_name="Upsert Contact",
    preset_trigger='type = "identify"',
)
