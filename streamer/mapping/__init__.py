"""The mapping engine: Segment's trigger language (FQL) and mapping language, compiled once.

A subscription has a trigger (``type = "track" and properties.total > 100``) and a mapping
(``{"user_id": {"@path": "$.userId"}, ...}``). Both are compiled at start-up into plain Python
callables that give, event for event, the answers of Segment's own engines
(``@segment/destination-subscriptions`` and ``@segment/actions-core``'s mapping-kit):

    matches = compile_trigger('type = "track"')       # (event) -> bool
    to_item = compile_mapping(mapping)                 # (event) -> dict
    if matches(event):
        item = to_item(event)

Both raise :class:`MappingError` at compile time for what Segment rejects when loading; a
mapper raises it at evaluation where Segment fails while mapping (a disabled Liquid tag, an
``@if`` without a condition, ...). Compiled callables are pure and thread-safe, never mutate
the event, and may return the event's own sub-objects inside their output (treat both as
read-only).
"""

from .._exceptions import MappingError
from ._codegen import Entry, Program
from ._compile import Mapper, compile_mapping, mapping_program
from ._js import UNDEFINED
from ._trigger import Trigger, compile_trigger, field_equality, trigger_warnings

__all__ = [
    "UNDEFINED",
    "Entry",
    "Mapper",
    "MappingError",
    "Program",
    "Trigger",
    "compile_mapping",
    "compile_trigger",
    "field_equality",
    "mapping_program",
    "trigger_warnings",
]
