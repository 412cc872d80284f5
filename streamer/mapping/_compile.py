"""Compile a whole mapping into one ``event -> dict`` function.

Lifecycle: :func:`compile_mapping` runs once per subscription at start-up. It validates the
mapping as Segment does at load (a :class:`MappingError` naming each bad path), then walks it
once, turning raw values into constants, raw objects and arrays into builders over their
children's closures, and directives into the closures of :mod:`._directives`. The returned
function does no parsing and no validation; it never mutates the event.

Output ownership: values copied from the event (``@path: $.traits``) are the event's own
objects, not copies. Treat the event and the output as read-only, or copy before mutating.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._exceptions import MappingError
from ._codegen import Hook, Program, generate, program
from ._directives import DIRECTIVES
from ._js import UNDEFINED, type_name
from ._nodes import Compiled, Context, constant, dynamic, failing
from ._validate import validation_problems

__all__ = ["Mapper", "compile_mapping", "compile_node", "is_directive", "mapping_program"]

Mapper = Callable[[Mapping[str, Any]], dict[str, Any]]


def is_directive(value: dict[Any, Any]) -> bool:
    """Segment's ``isDirective``: some ``@`` key, and no other key but ``_metadata``."""
    has_directive = False
    for key in value:
        if isinstance(key, str) and key.startswith("@"):
            has_directive = True
        elif key != "_metadata":
            return False
    return has_directive


def compile_node(mapping: Any, ctx: Context) -> Compiled:
    """Compile any mapping value (raw value, object, array or directive)."""
    if isinstance(mapping, dict):
        if is_directive(mapping):
            name = next(k for k in mapping if isinstance(k, str) and k.startswith("@"))
            compile_directive = DIRECTIVES.get(name)
            if compile_directive is None:
                return failing(f"{name} is not a valid directive, got undefined")
            return compile_directive(mapping[name], ctx)
        return _compile_object(mapping, ctx)
    if isinstance(mapping, list):
        return _compile_array(mapping, ctx)
    return constant(mapping)


def _compile_object(mapping: dict[str, Any], ctx: Context) -> Compiled:
    entries = [(key, compile_node(item, ctx)) for key, item in mapping.items()]
    if all(node.constant for _, node in entries):
        return constant({key: node.value(None) for key, node in entries})
    values = tuple((key, node.value) for key, node in entries)
    # Children that are constantly undefined never reach an output: leave them out of it.
    finals = tuple(
        (key, node.final)
        for key, node in entries
        if not (node.constant and node.value(None) is UNDEFINED)
    )

    def build_value(payload: Any) -> dict[str, Any]:
        return {key: evaluate(payload) for key, evaluate in values}

    def build_final(payload: Any) -> dict[str, Any]:
        out = {}
        for key, evaluate in finals:
            item = evaluate(payload)
            if item is not UNDEFINED:
                out[key] = item
        return out

    plan = ("object", tuple(entries))
    return dynamic(build_value, clean=False, final=build_final, plan=plan)


def _compile_array(mapping: list[Any], ctx: Context) -> Compiled:
    items = [compile_node(item, ctx) for item in mapping]
    if all(node.constant for node in items):
        return constant([node.value(None) for node in items])
    values = tuple(node.value for node in items)
    finals = tuple(node.final for node in items)

    def build_value(payload: Any) -> list[Any]:
        return [evaluate(payload) for evaluate in values]

    def build_final(payload: Any) -> list[Any]:
        out = []
        for evaluate in finals:
            item = evaluate(payload)
            out.append(None if item is UNDEFINED else item)
        return out

    return dynamic(build_value, clean=False, final=build_final)


def compile_mapping(mapping: dict[str, Any]) -> Mapper:
    """Compile a Segment mapping into ``mapper(event) -> dict``.

    Raises :class:`MappingError` when Segment would reject the mapping when loading it; the
    returned function raises :class:`MappingError` where Segment fails while mapping.
    """
    root = _compile_root(mapping)
    build, build_dict = root.final, generate(root)

    def mapper(event: Mapping[str, Any]) -> dict[str, Any]:
        if type(event) is dict:
            return build_dict(event)  # type: ignore[no-any-return]
        if not isinstance(event, Mapping):
            raise MappingError(f"data must be an object, got {type_name(event)}")
        return build(event)  # type: ignore[no-any-return]

    return mapper


def mapping_program(mapping: dict[str, Any], after: Hook | None = None) -> Program:
    """The source code of ``compile_mapping(mapping)`` for a ``dict`` event.

    For callers that generate one function doing more than mapping (the router inserts its
    action's checks, through ``after``: see :func:`._codegen.program`); it raises
    :class:`MappingError` as :func:`compile_mapping` does.
    """
    return program(_compile_root(mapping), after)


def _compile_root(mapping: dict[str, Any]) -> Compiled:
    if not isinstance(mapping, dict):
        raise MappingError(f"a mapping must be an object, got {type_name(mapping)}")
    problems = validation_problems(mapping)
    if problems:
        raise MappingError("invalid mapping: " + "; ".join(problems))
    if is_directive(mapping):
        raise MappingError("a mapping must be an object of fields, not a single directive")
    return compile_node(mapping, Context(compile_node))
