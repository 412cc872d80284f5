"""One generated function per route: mapping, validation, cleaning and the outcome, in one body.

The router's step is ``mapping(event)``, then the item check specialised for the mapping, then
the action's rules and the audience. Each part is already compiled (the mapping into straight-
line code, the check likewise), but as separate functions the check reads every field back out
of the item the mapping has just built. Here both sources are joined into one function: the
check tests the local variables the mapping code left each field in, and the outcome is built
in place.

Nothing is decided differently. The function only takes the paths it can take without doubt:
an event that is not a ``dict``, or a mapping that raises, goes through the composed step
(``slow``), which maps again (mapping is pure and deterministic) and says what is wrong; an
item the specialised check doubts goes to the complete procedure, as in the composed step.
Tests compare the two on generated mappings and events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._exceptions import MappingError
from ..actions import Action, Refusal, check_source, validator_for
from ..mapping import UNDEFINED, Entry, mapping_program
from ._native import define
from ._types import Accepted, Outcome, Route

__all__ = ["fused_step"]

_Step = Callable[[Mapping[str, Any]], Outcome]
_Settle = Callable[["dict[str, Any] | Refusal"], Outcome]


def fused_step(
    route: Route,
    action: Action,
    mapping: Mapping[str, Any],
    tags: Mapping[str, dict[str, str]] | None,
    *,
    slow: _Step,
    settle: _Settle,
    native: bool = True,
) -> _Step | None:
    """The route's step as one generated function, or ``None`` when the mapping has no shape
    that gains from it (its root is not an object of fields).

    ``slow`` is the composed step (for the rare paths), ``settle`` turns a checked item (or a
    refusal) into its outcome, as the composed step does. ``native``: when the build has this
    very step compiled ahead of time (the presets' steps, see ``_native.py``), that one.
    """
    check = check_source(
        validator_for(action), action.fields, mapping, missing=UNDEFINED,
        fail="return slow(payload)",
    )
    if check is None:
        return None

    def after(key: str, entry: Entry, absent: str | None) -> list[str]:
        # The key's tests, right where its value is known.
        parts = None if entry.parts is None else {k: e.var for k, e in entry.parts.items()}
        return check.value_lines(key, entry.var, parts, absent)

    try:
        code = mapping_program(dict(mapping), after)
    except MappingError:  # pragma: no cover - the router has compiled this mapping already
        return None
    entries = code.entries
    if entries is None:
        return None

    def read(key: str) -> str:
        entry = entries.get(key)
        return "MISSING" if entry is None else entry.var

    namespace = {**code.namespace}
    env = {
        **check.env, "route": route, "slow": slow, "settle": settle, "prepare": action.prepare,
        "tags": tags, "new": tuple.__new__, "Accepted": Accepted,
    }
    if namespace.keys() & env.keys():  # pragma: no cover - the two name schemes are disjoint
        raise AssertionError(f"name clash: {sorted(namespace.keys() & env.keys())}")
    namespace.update(env)
    lines = [
        "def step(payload):",
        "    if payload.__class__ is not dict:",
        "        return slow(payload)",
        "    dirty = False",
        "    try:",
        *(f"    {line}" for line in code.lines),
        "    except Exception:",
        "        return slow(payload)  # it maps again and says what failed",
        *(f"    {line}" for line in check.required_lines(read)),
        f"    clean = rebuild({code.result}) if dirty else {code.result}",
    ]
    if action.prepare is not None:
        # A verdict is rare: settle asks again (the rules are pure) and builds the outcome.
        # The action's rules written out where it can (no call per item), else called.
        doubt = (
            "prepare(clean) is not None" if action.prepare_doubt is None
            else action.prepare_doubt(read)
        )
        lines.append(f"    if {doubt}: return settle(clean)")
    if tags is not None:
        lines += [
            "    tag = tags.get(clean.get('audience_update_mode', ''))",
            "    if tag is not None: return settle(clean)",
        ]
    # Accepted(route, clean), without the Python-level __new__ of a named tuple.
    lines.append("    return new(Accepted, (route, clean))")
    step: _Step = define(
        "\n".join(lines) + "\n", namespace, name="step", filename=f"<route {route.name!r} step>",
        native=native,
    )
    return step
