"""The compiled form of one mapping value: a pair of closures and what is known about them.

Segment resolves a mapping into a tree that may hold ``undefined`` (a missing ``@path``),
lets directives look at it (``@merge`` copies an ``undefined`` key over a defined one), and
removes the ``undefined`` values once, at the end. A compiled node therefore offers both:

- ``value(payload)``: the value as Segment's ``resolve`` has it, ``UNDEFINED`` included;
- ``final(payload)``: the same after ``removeUndefined`` (what goes into an output).

``clean`` says ``value`` never holds a nested ``UNDEFINED``; then ``final`` *is* ``value``
and nothing is copied or walked (the common case: a ``@path`` into the event). ``constant``
says the node reads nothing from the payload and cannot fail, so callers may fold it.

Errors Segment raises while resolving are :class:`MappingError` raised by the closures; a
directive whose options are wrong in a way Segment only notices when it runs compiles into a
:func:`failing` node, so the error surfaces exactly when Segment's would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .._exceptions import MappingError
from ._js import UNDEFINED
from ._ops import strip_undefined

__all__ = ["Compiled", "Context", "Evaluator", "constant", "dynamic", "failing", "fold"]

Evaluator = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Compiled:
    value: Evaluator
    final: Evaluator
    clean: bool
    constant: bool = False
    plan: tuple[Any, ...] | None = None
    """What the node does, for :mod:`._codegen` (``None``: an opaque call)."""


@dataclass(frozen=True, slots=True)
class Context:
    """What a directive's compiler needs: how to compile a child, and what the payload is."""

    compile: Callable[[Any, Context], Compiled]
    payload_clean: bool = True
    """The payload holds no ``UNDEFINED`` (true for an event; ``@arrayPath`` items may not)."""

    def child(self, mapping: Any) -> Compiled:
        return self.compile(mapping, self)

    def with_payload(self, *, clean: bool) -> Context:
        return self if clean == self.payload_clean else replace(self, payload_clean=clean)


def _clone(value: Any) -> Any:
    if type(value) is dict:
        return {k: _clone(v) for k, v in value.items()}
    if type(value) is list:
        return [_clone(v) for v in value]
    return value


def constant(value: Any, final: Any = UNDEFINED, *, has_final: bool = False) -> Compiled:
    """A payload-independent node. Containers are copied per call: callers may mutate them."""
    final_value = final if has_final else strip_undefined(value)
    if isinstance(value, dict | list):

        def value_copy(_payload: Any) -> Any:
            return _clone(value)

        def final_copy(_payload: Any) -> Any:
            return _clone(final_value)

        return Compiled(value_copy, final_copy, clean=False, constant=True)

    def same(_payload: Any) -> Any:
        return value

    return Compiled(same, same, clean=True, constant=True, plan=("constant", value))


def dynamic(
    value: Evaluator,
    *,
    clean: bool,
    final: Evaluator | None = None,
    plan: tuple[Any, ...] | None = None,
) -> Compiled:
    """A payload-dependent node; without ``final``, a dirty value is stripped after the fact."""
    if final is None:
        if clean:
            final = value
        else:

            def final(payload: Any) -> Any:
                return strip_undefined(value(payload))

    return Compiled(value, final, clean=clean, plan=plan)


def failing(message: str) -> Compiled:
    """A node that raises ``MappingError(message)`` whenever it is evaluated."""

    def fail(_payload: Any) -> Any:
        raise MappingError(message)

    return Compiled(fail, fail, clean=True)


def fold(node: Compiled, *inputs: Compiled) -> Compiled:
    """Evaluate once at compile time when every input is constant and the node reads no payload."""
    if not all(item.constant for item in inputs):
        return node
    try:
        value, final = node.value(None), node.final(None)
    except MappingError as error:
        return failing(str(error))
    return constant(value, final, has_final=True)
