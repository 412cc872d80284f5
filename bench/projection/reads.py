"""What the compiled subscriptions read of an event: the paths a projected decoder must keep.

Lifecycle: :func:`event_reads` runs once at start-up, on the same subscriptions the router
compiles (``None``: the presets). It walks each enabled subscription's trigger (the parsed FQL:
every condition's field path) and mapping (the configuration: every ``@path``,
``@arrayPath``'s array, every ``{{...}}`` of a ``@template``, through ``@if``, ``@case``,
``@replace``, ``@json``, ``@flatten``, ``@merge`` and ``@excludeWhenNull``), and adds what the
pipeline itself reads: ``integrations`` (the router's first test) and ``messageId`` (dead
letters). Paths are split with the mapping engine's own functions, so a path means here what it
means there (``$.a.b[0]`` is ``a``, ``b``, ``0``; a template's ``{{$.x}}`` reads the key ``$``).

The answer is a :data:`PathTree`: ``{"context": {"ip": None}, "traits": None, ...}``, where
``None`` stands for the whole value under that key, or ``None`` for the whole event. Reading the
whole event, or what cannot be bounded before the event is seen, gives ``None``: ``@path: "$."``,
a path that is itself computed (``{"@path": {"@template": ...}}``), ``@liquid`` (its templates
look anything up), ``@transform`` (its mapping reads a payload built at run time), a triple-brace
template (its first pass may write new placeholders), an unknown directive.

A path is kept whole from its last key down, and a prefix read whole swallows the longer paths
under it (``$.traits`` and ``$.traits.email`` keep ``traits`` whole). A value met on the way
that is not an object (``context`` a string, ``properties.items`` an array) is kept whole by
the decoder: walking into it (``length``, an index) then sees what the full decode sees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from streamer.config import IntegrationsConfig, SubscriptionConfig
from streamer.mapping._compile import is_directive
from streamer.mapping._directives import DIRECTIVES
from streamer.mapping._fql import Comparison, Node, parse_fql
from streamer.mapping._ops import _DOUBLE, _TRIPLE, placeholder_keys
from streamer.mapping._paths import split_mapping_path
from streamer.routing._integrations import integration_names

__all__ = ["PathTree", "event_reads", "paths_of"]

PathTree = dict[str, "PathTree | None"]
"""Keys read at one level of the event; under each, the keys read below it (``None``: whole)."""

_PIPELINE_READS = (("messageId",),)
"""Read by the dispatcher for every event it dead-letters (the letter's message id)."""

_WALKED = frozenset({"@if", "@case", "@replace", "@json", "@flatten", "@merge", "@excludeWhenNull"})
"""Directives whose options are mapping values themselves (paths, templates, constants)."""


class _Unbounded(Exception):
    """The subscription reads the whole event, or what cannot be known before reading it."""


def event_reads(
    subscriptions: Sequence[SubscriptionConfig] | None,
    integrations: IntegrationsConfig | None = None,
) -> PathTree | None:
    """The paths the router and the dispatcher read of an event; ``None``: the whole event.

    ``subscriptions`` and ``integrations`` are what :func:`compile_router` is given. Only
    enabled subscriptions count (the router leaves the others out). A trigger or mapping that
    does not compile reads nothing here: the router refuses the configuration anyway.
    """
    from streamer.routing._router import _preset_subscriptions

    configured = _preset_subscriptions() if subscriptions is None else list(subscriptions)
    tree: PathTree = {}
    try:
        for keys in _PIPELINE_READS:
            _add(tree, keys)
        if integration_names(integrations) is not None:
            _add(tree, ("integrations",))
        for sub in configured:
            if sub.enabled:
                _trigger_reads(sub.trigger, tree)
                _mapping_reads(sub.mapping, tree)
    except _Unbounded:
        return None
    return tree


def paths_of(tree: PathTree | None) -> list[str]:
    """The tree as sorted dotted paths, for logs and tests (``["context.ip", "traits"]``)."""
    if tree is None:
        return ["$"]
    out: list[str] = []
    for key, below in tree.items():
        out.extend([key] if below is None else [f"{key}.{path}" for path in paths_of(below)])
    return sorted(out)


def _add(tree: PathTree, keys: Sequence[str]) -> None:
    if not keys:
        raise _Unbounded
    node = tree
    for key in keys[:-1]:
        if key in node:
            below = node[key]
            if below is None:
                return  # already read whole
            node = below
        else:
            below = node[key] = {}
            node = below
    node[keys[-1]] = None


def _trigger_reads(text: str, tree: PathTree) -> None:
    try:
        parsed: Node = parse_fql(text)
    except Exception:
        return
    pending: list[Node] = [parsed]
    while pending:
        node = pending.pop()
        if isinstance(node, Comparison):
            _add(tree, (node.root, *node.path))
        else:
            pending.extend(node.children)


def _mapping_reads(node: Any, tree: PathTree) -> None:
    if isinstance(node, list):
        for item in node:
            _mapping_reads(item, tree)
        return
    if not isinstance(node, Mapping):
        return  # a constant
    if not is_directive(dict(node)):
        for value in node.values():
            _mapping_reads(value, tree)
        return
    name = next(k for k in node if isinstance(k, str) and k.startswith("@"))
    options = node[name]
    if name == "@literal":
        return
    if name == "@path":
        _add(tree, _fixed_path(options))
    elif name == "@arrayPath":
        # The item mapping reads the array's items: the array is kept whole.
        if not isinstance(options, list) or not options:
            raise _Unbounded
        _add(tree, _fixed_path(options[0]))
    elif name == "@template":
        if not isinstance(options, str) or _TRIPLE.search(options):
            raise _Unbounded
        for match in _DOUBLE.finditer(options):
            _add(tree, placeholder_keys(match.group(1)))
    elif name in _WALKED and name in DIRECTIVES:
        _mapping_reads(options, tree)
    else:  # @liquid, @transform, one this module does not know
        raise _Unbounded


def _fixed_path(path: Any) -> tuple[str, ...]:
    if not isinstance(path, str):
        raise _Unbounded  # computed from the event
    return split_mapping_path(path)
