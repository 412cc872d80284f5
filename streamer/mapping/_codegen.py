"""Generate one flat Python function for the hot shapes of a compiled mapping.

Look-ups are pure, so every prefix of every ``@path`` in the generated part is computed once,
up front (``context`` then ``context.traits`` then ...), and shared by all the paths that use
it, whichever ``@if`` branch ends up needing it.

The closures of :mod:`._compile` are correct for every mapping but pay a Python call per
node. Real mappings (Ortto's presets among them) are mostly raw objects of ``@path`` look-ups,
``@if exists`` choices and constants; for those this module writes the equivalent straight-
line code once, at compile time (the dict look-ups inlined, each path's keys as literals), and
``exec``-s it. Any other node is called through its closure, so the generated function has the
same results as ``root.final`` by construction; the property tests check it against the
reference interpreter anyway.

Only string keys (``repr``-ed, so never code) and generated names reach the source text;
every other value is bound by name in the function's namespace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._js import UNDEFINED, loose_ne_empty
from ._nodes import Compiled
from ._paths import get_path

__all__ = ["generate"]


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {
            "U": UNDEFINED,
            "_walk": get_path,
            "_filled": loose_ne_empty,
        }
        self.count = 0
        self.head: list[str] = []
        self.prefixes: dict[tuple[str, ...], str] = {}

    def name(self, prefix: str, value: Any = None, *, bind: bool = False) -> str:
        self.count += 1
        name = f"{prefix}{self.count}"
        if bind:
            self.namespace[name] = value
        return name

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def value(self, node: Compiled, target: str, source: str, indent: int, *, final: bool) -> None:
        """Emit code that sets ``target`` to ``node.final(source)`` (or ``.value`` if not final)."""
        plan = node.plan
        kind = plan[0] if plan else None
        if kind == "constant" and plan is not None:
            self.emit(indent, f"{target} = {self.name('c', plan[1], bind=True)}")
        elif kind == "path" and plan is not None:
            self.path(plan[1], target, source, indent)
        elif kind == "if" and plan is not None:
            self.choice(plan, target, source, indent, final=final)
        elif kind == "object" and final and plan is not None:
            self.object(plan[1], target, source, indent)
        else:
            function = self.name("f", node.final if final else node.value, bind=True)
            self.emit(indent, f"{target} = {function}({source})")

    def path(self, keys: tuple[str, ...], target: str, source: str, indent: int) -> None:
        if source != "payload":  # pragma: no cover - path plans only exist on the event
            raise AssertionError(source)
        self.emit(indent, f"{target} = {self.prefix(keys)}")

    def prefix(self, keys: tuple[str, ...]) -> str:
        """The variable holding the value at ``keys``; computed once, before the body."""
        if not keys:
            return "payload"
        name = self.prefixes.get(keys)
        if name is None:
            parent = self.prefix(keys[:-1])
            name = self.prefixes[keys] = self.name("p")
            key = keys[-1]
            if parent == "payload":  # the generated function only ever receives a dict
                self.head.append(f"    {name} = payload.get({key!r}, U)")
            else:
                step = self.name("k", (key,), bind=True)
                self.head.append(f"    if {parent}.__class__ is dict:")
                self.head.append(f"        {name} = {parent}.get({key!r}, U)")
                self.head.append("    else:")
                self.head.append(f"        {name} = _walk({parent}, {step})")
        return name

    def choice(
        self, plan: tuple[Any, ...], target: str, source: str, indent: int, *, final: bool
    ) -> None:
        _, condition, then, other, by_existence, reuse = plan
        test = self.name("t")
        self.value(condition, test, source, indent, final=False)
        holds = f"{test} is not None and {test} is not U"
        if not by_existence:
            holds += f" and _filled({test})"
        if reuse:
            self.emit(indent, f"if {holds}:")
            self.emit(indent + 1, f"{target} = {test}")
        else:
            self.emit(indent, f"if {holds}:")
            self.value(then, target, source, indent + 1, final=final)
        self.emit(indent, "else:")
        self.value(other, target, source, indent + 1, final=final)

    def object(
        self, entries: tuple[tuple[str, Compiled], ...], target: str, source: str, indent: int
    ) -> None:
        built = self.name("o")
        self.emit(indent, f"{built} = {{}}")
        for key, node in entries:
            plan = node.plan
            if plan is not None and plan[0] == "constant":
                if plan[1] is not UNDEFINED:
                    self.emit(indent, f"{built}[{key!r}] = {self.name('c', plan[1], bind=True)}")
                continue
            item = self.name("v")
            self.value(node, item, source, indent, final=True)
            self.emit(indent, f"if {item} is not U:")
            self.emit(indent + 1, f"{built}[{key!r}] = {item}")
        self.emit(indent, f"{target} = {built}")


def generate(root: Compiled) -> Callable[[dict[str, Any]], Any]:
    """A function equal to ``root.final`` for a ``dict`` payload, written out as one body."""
    writer = _Writer()
    writer.value(root, "result", "payload", 1, final=True)
    body = "\n".join([*writer.head, *writer.lines])
    source = f"def generated(payload):\n{body}\n    return result\n"
    exec(compile(source, "<streamer.mapping generated>", "exec"), writer.namespace)
    return writer.namespace["generated"]  # type: ignore[no-any-return]
