"""The presets' generated code, compiled ahead of time: rendering, keys and look-up.

A route's step (``_fused.py``) and the router's function that calls the steps
(``_route_code.py``) are Python source generated at start-up and run by the interpreter. The
presets' as shipped are the same source on every installation, so the build can compile them
with mypyc like the rest of the hot path: ``_native_steps.py`` holds them, rendered from the
generated source by :func:`render_module` and committed (a test fails when it no longer matches
what the generator writes; ``./dev regen`` rewrites it).

The rendering is mechanical and changes no decision: each name the function reads from its
namespace becomes an attribute of the instance, set from the same namespace at start-up;
``x.__class__`` becomes ``type(x)`` (the same class for the values a decoder builds, and what
mypyc reads in place); the scans of ``actions/_scan.py`` bound in the namespace are called
natively. Whatever the compiled code raises inside a step's ``try`` goes to the composed step,
as in the interpreted one.

At start-up :func:`native_step` looks the generated source up by its key: a digest of the
source and of which scans its names are bound to. Any other mapping or trigger, a changed
generator or another flavour of the scans has another key and runs interpreted, as before.
Only a compiled build uses the table: interpreted, the rendering (attributes instead of
globals) is slower.
"""

from __future__ import annotations

import ast
import hashlib
import symtable
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ..actions import _scan

__all__ = ["SOURCE", "define", "is_native", "native_step", "render_module", "step_key"]

SOURCE = "__source__"
"""The key under which a generated step's namespace keeps its source (for rendering)."""

_Step = Callable[[Mapping[str, Any]], Any]

# The scans a step may call natively, by identity: a name is called so only when its namespace
# binds it to one of these (the key says which).
_NATIVE_SCANS = (
    "has_empty_key", "without_empty_keys", "is_date_time", "_ipv4_by_chars", "turns_off",
)


def _natives(source: str, namespace: Mapping[str, Any]) -> tuple[list[str], dict[str, str]]:
    """The step's free names (read from the namespace), and those bound to a native scan."""
    (function,) = symtable.symtable(source, "<step>", "exec").get_children()
    assert isinstance(function, symtable.Function)
    free = sorted(n for n in function.get_globals() if n in namespace)
    scans = {id(getattr(_scan, name)): name for name in _NATIVE_SCANS}
    natives = {n: scans[id(namespace[n])] for n in free if id(namespace[n]) in scans}
    return free, natives


def step_key(source: str, namespace: Mapping[str, Any]) -> str:
    """The key of a generated step: its source and the native scans its names are bound to."""
    _, natives = _natives(source, namespace)
    bound = ";".join(f"{name}={scan}" for name, scan in sorted(natives.items()))
    return hashlib.sha256(f"{source}\0{bound}".encode()).hexdigest()[:24]


def native_step(source: str, namespace: dict[str, Any]) -> _Step | None:
    """The compiled rendering of this generated step, bound to ``namespace``, if the build has
    one (``None``: run the source)."""
    from . import _native_steps

    if not _native_steps.COMPILED:
        return None
    kind = _native_steps.STEPS.get(step_key(source, namespace))
    step: _Step | None = None if kind is None else kind(namespace)
    return step


def define(
    source: str, namespace: dict[str, Any], *, name: str, filename: str, native: bool
) -> Any:
    """The generated function ``name`` of ``source``: its compiled rendering when ``native``
    and the build has one, else the source run in ``namespace`` (which then keeps it under
    :data:`SOURCE`, for the rendering)."""
    compiled = native_step(source, namespace) if native else None
    if compiled is not None:
        return compiled
    namespace[SOURCE] = source
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


def is_native(step: object) -> bool:
    """Whether ``step`` is one of the compiled renderings."""
    return type(step).__module__ == f"{__package__}._native_steps"


class _Rendering(ast.NodeTransformer):
    def __init__(self, attributes: set[str], natives: Mapping[str, str]) -> None:
        self._attributes = attributes
        self._natives = natives
        self._declared: set[str] = set()

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if node.attr == "__class__":
            return ast.Call(ast.Name("type", ast.Load()), [node.value], [])
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self._natives:
            return ast.Name(self._natives[node.id], node.ctx)
        if node.id in self._attributes:
            return ast.Attribute(ast.Name("self", ast.Load()), node.id, node.ctx)
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        self.generic_visit(node)
        # mypy needs the type of a variable whose first value is an empty object.
        (target,) = node.targets if len(node.targets) == 1 else (None,)
        if (isinstance(target, ast.Name) and isinstance(node.value, ast.Dict)
                and not node.value.keys and target.id not in self._declared):
            self._declared.add(target.id)
            annotation = ast.parse("dict[str, Any]", mode="eval").body
            return ast.AnnAssign(target, annotation, node.value, simple=1)
        return node


def _render_class(name: str, title: str, source: str, namespace: Mapping[str, Any]) -> str:
    free, natives = _natives(source, namespace)
    attributes = [n for n in free if n not in natives]
    (function,) = ast.parse(source).body
    assert isinstance(function, ast.FunctionDef)
    function = _Rendering(set(attributes), natives).visit(function)
    function.name = "__call__"
    function.args.args = [ast.arg("self"), ast.arg(function.args.args[0].arg, ast.Name("Any"))]
    function.returns = ast.Name("Any")
    body = ast.unparse(ast.fix_missing_locations(function))
    lines = [f"class {name}:", f'    """{title}."""', ""]
    lines += [f"    {n}: Any" for n in attributes]
    lines += ["", "    def __init__(self, ns: dict[str, Any]) -> None:"]
    lines += [f"        self.{n} = ns[{n!r}]" for n in attributes] or ["        pass"]
    lines.append("")
    lines += [f"    {line}" if line else "" for line in body.splitlines()]
    return "\n".join(lines)


def render_module(steps: Iterable[tuple[str, str, Mapping[str, Any]]]) -> str:
    """``_native_steps.py`` for ``(title, source, namespace)`` of generated functions."""
    classes, table = [], []
    for title, source, namespace in steps:
        key = step_key(source, namespace)
        name = f"Step_{key}"
        classes.append(_render_class(name, title, source, namespace))
        table.append(f"    {key!r}: {name},")
    scans = ", ".join(sorted(_NATIVE_SCANS))
    return "\n".join([
        '"""Generated by ``./dev regen``: do not edit (see ``streamer/routing/_native.py``).',
        "",
        "The presets' generated steps and router, rendered for mypyc (``setup.py`` compiles this",
        "module).",
        '"""',
        "",
        "# ruff: noqa",
        "from __future__ import annotations",
        "",
        "from typing import Any, Final",
        "",
        f"from ..actions._scan import {scans}",
        "",
        "COMPILED: Final = not __file__.endswith('.py')",
        '"""Whether this module runs compiled (mypyc): only then are its steps used."""',
        "",
        "",
        *(c + "\n\n" for c in classes),
        "STEPS: Final[dict[str, Any]] = {",
        *table,
        "}",
        '"""The step classes by :func:`streamer.routing._native.step_key` of their source."""',
        "",
    ])


def preset_steps() -> list[tuple[str, str, dict[str, Any]]]:
    """``(title, source, namespace)`` of the presets' generated steps and of their router's
    function, as a compiled build generates them."""
    from ._router import compile_router

    if not _scan.COMPILED:
        raise RuntimeError(
            "the presets' steps are rendered from a compiled build (its scans are called "
            "natively, and the plain-Python flavour generates other source): run ./dev first")
    router = compile_router(None, native_steps=False)
    steps = []
    for route, _, _, step in router._steps:
        namespace = step.__globals__
        steps.append((f"The preset {route.name!r} step", namespace[SOURCE], namespace))
    namespace = router.route.__globals__
    steps.append(("The presets' router", namespace[SOURCE], namespace))
    return steps


def write_module() -> None:
    """Rewrite ``_native_steps.py`` from the generator as it is (``./dev regen``)."""
    path = Path(__file__).with_name("_native_steps.py")
    path.write_text(render_module(preset_steps()), encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
