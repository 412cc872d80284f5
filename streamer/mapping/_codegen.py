"""Generate one flat Python function for the hot shapes of a compiled mapping.

The closures of :mod:`._compile` are correct for every mapping but pay a Python call per
node. Real mappings (Ortto's presets among them) are mostly raw objects of ``@path`` look-ups,
``@if exists`` choices and constants; for those this module writes the equivalent straight-
line code once, at compile time (the dict look-ups inlined, each path's keys as literals), and
``exec``-s it. Any other node is called through its closure, so the generated function has the
same results as ``root.final`` by construction; the property tests check it against the
reference interpreter anyway.

Look-ups are pure, so a path prefix (``context``, then ``context.traits``, ...) is computed
at most once per event and reused by every later path that starts with it. It is computed
where it is first needed, though: when that is inside an ``@if`` branch, only if the branch
runs (the presets' ``else`` paths into ``context.traits`` are never walked for an event that
has ``traits``); later uses then compute it unless it already was. Outside any branch, the
keys of one parent that are read unconditionally somewhere (the four keys of
``traits.address`` the presets' ``location`` reads) are looked up together, where the first
of them is needed, under one test of the parent's type.

Besides the function, :func:`program` hands out the source itself (a :class:`Program`) with
the local variable that holds each field of the output, so that the router can append the
checks of its action to the same function and test each field in a local variable rather than
reading it back from the item.

Only string keys (``repr``-ed, so never code) and generated names reach the source text;
every other value is bound by name in the function's namespace.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from ._js import UNDEFINED, loose_ne_empty
from ._nodes import Compiled
from ._paths import get_path

__all__ = ["Entry", "Hook", "Program", "generate", "program"]

_NOT_YET: Final = object()
"""The value of a path prefix variable that has not been computed yet."""


@dataclass(frozen=True, slots=True)
class Entry:
    """Where one key of a generated output object is found."""

    var: str
    """The local variable (or bound constant) holding the value; ``U`` when the key is absent."""
    parts: Mapping[str, Entry] | None = None
    """For an object written out in the mapping: its own keys, likewise."""
    defined: bool = False
    """The value is never ``U`` (an object written out, a constant)."""


Hook = Callable[[str, Entry, "str | None"], list[str]]
"""``hook(key, entry, absent)``: lines to run once the value of a key of the root object is
known (not indented). When the value may be ``U`` they get ``absent``, a statement they must
run in that case (and only then); else ``None``."""


@dataclass(frozen=True, slots=True)
class Program:
    """The source of a generated mapping function: ``lines`` compute ``result`` from ``payload``.

    The lines are indented for a function body (one level) and expect ``payload`` to be a
    ``dict``; ``namespace`` holds the names they use. ``entries`` are the output's keys when
    the root is an object (``None`` otherwise).
    """

    lines: tuple[str, ...]
    namespace: dict[str, Any]
    result: str
    entries: Mapping[str, Entry] | None


def _unconditional(node: Compiled, final: bool, out: dict[tuple[str, ...], None]) -> None:
    """The paths ``node``'s code reads outside any ``@if`` branch (as :meth:`_Writer.expr`
    walks it), with every prefix of each, in order."""
    plan = node.plan
    kind = plan[0] if plan else None
    if kind == "path" and plan is not None:
        for end in range(1, len(plan[1]) + 1):
            out[plan[1][:end]] = None
    elif kind == "if" and plan is not None:
        _unconditional(plan[1], False, out)
    elif kind == "object" and final and plan is not None:
        for _, child in plan[1]:
            _unconditional(child, True, out)


def _siblings(root: Compiled) -> dict[tuple[str, ...], list[tuple[str, ...]]]:
    """Per parent path, its children read unconditionally (only parents with several)."""
    paths: dict[tuple[str, ...], None] = {}
    _unconditional(root, True, paths)
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for keys in paths:
        children.setdefault(keys[:-1], []).append(keys)
    return {parent: keys for parent, keys in children.items() if parent and len(keys) > 1}


class _Writer:
    def __init__(self, after: Hook | None = None) -> None:
        self.after = after
        self.siblings: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        """Children of one parent to look up together (see :func:`_siblings`)."""
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {
            "U": UNDEFINED,
            "_walk": get_path,
            "_filled": loose_ne_empty,
            "_N": _NOT_YET,
        }
        self.count = 0
        # Path prefixes already computed, one level per open @if branch: a prefix computed in
        # a branch is only defined inside it.
        self.scopes: list[dict[tuple[str, ...], str]] = [{}]
        # Prefixes first computed in a branch: set to _N up front, computed at most once.
        self.lazy: dict[tuple[str, ...], str] = {}
        self.guarded: list[str] = []  # the lazy ones tested somewhere: they need the _N
        self.start = 0  # where the root object's code begins

    def name(self, prefix: str, value: Any = None, *, bind: bool = False) -> str:
        self.count += 1
        name = f"{prefix}{self.count}"
        if bind:
            self.namespace[name] = value
        return name

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def expr(self, node: Compiled, indent: int, *, final: bool) -> Entry:
        """Emit code for ``node.final(payload)`` (``.value`` if not final); where it ends up."""
        plan = node.plan
        kind = plan[0] if plan else None
        if kind == "constant" and plan is not None:
            return Entry(self.name("c", plan[1], bind=True), defined=plan[1] is not UNDEFINED)
        if kind == "path" and plan is not None:
            return Entry(self.prefix(plan[1], indent))
        if kind == "if" and plan is not None:
            return Entry(self.choice(plan, indent, final=final))
        if kind == "object" and final and plan is not None:
            return self.object(plan[1], indent, root=False)
        function = self.name("f", node.final if final else node.value, bind=True)
        target = self.name("r")
        self.emit(indent, f"{target} = {function}(payload)")
        return Entry(target)

    def prefix(self, keys: tuple[str, ...], indent: int) -> str:
        """The variable holding the value at ``keys``, computed here unless already known."""
        if not keys:
            return "payload"
        for scope in self.scopes:
            if keys in scope:
                return scope[keys]
        name = self.lazy.get(keys)
        if name is not None:
            # Computed in an earlier branch, which may not have run: compute it unless it did.
            self.emit(indent, f"if {name} is _N:")
            self.guarded.append(name)
            self.scopes.append({})
            self.look_up(keys, name, indent + 1)
            self.scopes.pop()
        else:
            name = self.name("p")
            if len(self.scopes) > 1:
                self.lazy[keys] = name
            self.look_up(keys, name, indent)
        self.scopes[-1][keys] = name
        return name

    def look_up(self, keys: tuple[str, ...], name: str, indent: int) -> None:
        parent = self.prefix(keys[:-1], indent)
        if parent == "payload":  # the generated function only ever receives a dict
            self.emit(indent, f"{name} = payload.get({keys[-1]!r}, U)")
            return
        group = [(keys, name)]
        if len(self.scopes) == 1:
            # Outside any branch: the parent's other unconditional children, not known yet,
            # are looked up here too (pure look-ups, only earlier), under the same tests.
            known = self.scopes[0]
            for sibling in self.siblings.get(keys[:-1], ()):
                if sibling != keys and sibling not in known and sibling not in self.lazy:
                    known[sibling] = other = self.name("p")
                    group.append((sibling, other))
        self.emit(indent, f"if {parent}.__class__ is dict:")
        for child, var in group:
            self.emit(indent + 1, f"{var} = {parent}.get({child[-1]!r}, U)")
        # JavaScript's `value && value[key]`: a missing or null value is the answer as it is.
        self.emit(indent, f"elif {parent} is U or {parent} is None:")
        self.emit(indent + 1, f"{' = '.join(var for _, var in group)} = {parent}")
        self.emit(indent, "else:")
        for child, var in group:
            step = self.name("k", (child[-1],), bind=True)
            self.emit(indent + 1, f"{var} = _walk({parent}, {step})")

    def branch(self, node: Compiled, target: str, indent: int, *, final: bool) -> None:
        self.scopes.append({})
        self.emit(indent, f"{target} = {self.expr(node, indent, final=final).var}")
        self.scopes.pop()

    def choice(self, plan: tuple[Any, ...], indent: int, *, final: bool) -> str:
        _, condition, then, other, by_existence, reuse = plan
        test = self.expr(condition, indent, final=False).var
        target = self.name("t")
        holds = f"{test} is not None and {test} is not U"
        if not by_existence:
            holds += f" and _filled({test})"
        self.emit(indent, f"if {holds}:")
        if reuse:
            self.emit(indent + 1, f"{target} = {test}")
        else:
            self.branch(then, target, indent + 1, final=final)
        self.emit(indent, "else:")
        self.branch(other, target, indent + 1, final=final)
        return target

    def object(
        self, entries: tuple[tuple[str, Compiled], ...], indent: int, *, root: bool
    ) -> Entry:
        # The values first, then one dict display (a single presized build, in key order),
        # then the keys whose value is undefined deleted again (the order of the rest stays).
        parts: dict[str, Entry] = {}
        hook = self.after if root else None
        for key, node in entries:
            plan = node.plan
            if plan is not None and plan[0] == "constant" and plan[1] is UNDEFINED:
                continue
            parts[key] = entry = self.expr(node, indent, final=True)
            if hook is not None:
                absent = None if entry.defined else "gap = True"
                lines = hook(key, entry, absent)
                if not lines and absent is not None:
                    lines = [f"if {entry.var} is U: {absent}"]
                for line in lines:
                    self.emit(indent, line)
        built = self.name("o")
        display = ", ".join(f"{key!r}: {entry.var}" for key, entry in parts.items())
        optional = [(key, entry.var) for key, entry in parts.items() if not entry.defined]
        if optional and hook is None:
            # A nested object whose values are all undefined (the presets' `location` for an
            # event without an address) is built without them at once, not built then emptied.
            left = ", ".join(f"{key!r}: {entry.var}" for key, entry in parts.items()
                             if entry.defined)
            self.emit(indent, f"if {' and '.join(f'{var} is U' for _, var in optional)}:")
            self.emit(indent + 1, f"{built} = {{{left}}}")
            self.emit(indent, "else:")
            indent += 1
        self.emit(indent, f"{built} = {{{display}}}")
        if optional and hook is not None:
            self.lines.insert(self.start, "    " * indent + "gap = False")
            self.emit(indent, "if gap:")
            indent += 1
        for key, var in optional:
            self.emit(indent, f"if {var} is U: del {built}[{key!r}]")
        return Entry(built, parts, defined=True)


def program(root: Compiled, after: Hook | None = None) -> Program:
    """The source of a function equal to ``root.final`` for a ``dict`` payload.

    When the root is an object, the lines of ``after`` (a :data:`Hook`) are inserted where the
    value of each of its keys is known (they may not assign the names the generated code uses:
    ``gap`` and ``[a-z]+[0-9]+``).
    """
    writer = _Writer(after)
    writer.siblings = _siblings(root)
    if root.plan is not None and root.plan[0] == "object":
        writer.start = len(writer.lines)
        entry = writer.object(root.plan[1], 1, root=True)
    else:
        entry = writer.expr(root, 1, final=True)
    head = [f"    {name} = _N" for name in dict.fromkeys(writer.guarded)]
    return Program((*head, *writer.lines), writer.namespace, entry.var, entry.parts)


def generate(root: Compiled) -> Callable[[dict[str, Any]], Any]:
    """A function equal to ``root.final`` for a ``dict`` payload, written out as one body."""
    code = program(root)
    source = "\n".join(["def generated(payload):", *code.lines, f"    return {code.result}", ""])
    namespace = dict(code.namespace)
    exec(compile(source, "<streamer.mapping generated>", "exec"), namespace)
    return namespace["generated"]  # type: ignore[no-any-return]
