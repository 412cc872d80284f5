"""The router: one Segment event in, one outcome per matching subscription out.

Lifecycle: :func:`compile_router` runs once at start-up. It compiles every trigger (FQL) and
every mapping into plain callables, checks each subscription against its action (known action,
mapping keys that are fields, literal values the field accepts, audience names) and reports
*all* problems together in one :class:`~streamer._exceptions.ConfigError`, each naming its
subscription. The resulting :class:`Router` is immutable; :meth:`Router.route` is the per-event
hot path of the pipeline, so everything it needs is bound in advance and it allocates only the
outcomes (and the items) it returns.

Audiences: a subscription may name an Ortto audience. Its id is found or created through
``/v1/audiences/create`` by the pipeline, once, at start-up; the pipeline compiles without ids to
learn :attr:`Router.audience_names`, then binds them with :meth:`Router.with_audience_ids`
(only those routes' last step is made again; no trigger or mapping is compiled twice). A router
compiled without the ids of its audiences can be inspected but refuses to route.

Batched or one at a time: a subscription whose mapping says ``enable_batching: false`` goes,
as in Segment, through its action's single-event path: each event is one request of one item
(:meth:`Router.max_items` is 1; :attr:`Router.unbatched` names such routes), and the item loses
its top-level empty strings before validation (Segment's ``Action.execute``), where the batch
path keeps them. :attr:`Router.warnings` lists what Segment accepts but ignores or never
matches in the triggers (unknown operator words, conditions on unknown fields), for start-up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from .._exceptions import ConfigError, MappingError
from ..actions import (
    ACTIONS,
    Action,
    Refusal,
    audience_tags,
    item_checker,
    presets,
    without_empty_strings,
)
from ..config import MAX_SUBSCRIPTIONS, IntegrationsConfig, SubscriptionConfig
from ..mapping import (
    compile_mapping,
    compile_trigger,
    field_equality,
    trigger_warnings,
)
from ._checks import MAX_BATCH_ITEMS, SINGLE, mapping_problems, mapping_warnings, max_items_of
from ._fused import fused_step
from ._integrations import integration_names
from ._native import is_native
from ._route_code import exclusive_equalities, route_function
from ._screen import ValueScreen
from ._types import Accepted, Outcome, Rejected, Route, Skipped

__all__ = ["MAX_BATCH_ITEMS", "MAX_SUBSCRIPTIONS", "Router", "compile_router"]


_Step = Callable[[Mapping[str, Any]], Outcome]
_Trigger = Callable[[Mapping[str, Any]], bool]
_Equality = tuple[str, str] | None
"""``(field, value)`` of a trigger that is exactly ``field = "value"`` (see field_equality)."""
_RouteFunction = Callable[[Mapping[str, Any]], list[Outcome]]


class Router:
    """Compiled subscriptions. Build it with :func:`compile_router`."""

    __slots__ = (
        "_alone", "_binders", "_integrations", "_max_items", "_native", "_screened", "_steps",
        "audience_names", "compiled_routes", "route", "routes", "unbatched", "warnings",
    )

    routes: tuple[Route, ...]
    """The enabled subscriptions, in configuration order."""
    audience_names: tuple[str, ...]
    """Audience names the subscriptions use, each once, that need an id from Ortto."""
    unbatched: tuple[str, ...]
    """Names of the routes sent one event per request (``enable_batching: false``): each
    event is one request, and so one call against the sender's rate budget."""
    compiled_routes: tuple[str, ...]
    """Names of the routes whose step runs compiled ahead of time (a preset's, as shipped, in a
    compiled build: see ``_native.py``); the others run their generated code interpreted."""
    warnings: tuple[str, ...]
    """What the subscriptions say that Segment accepts but ignores or never matches, each
    message naming its subscription (log them once at start-up)."""
    route: _RouteFunction
    """``route(event)``: one outcome per subscription whose trigger matches ``event``, in
    subscription order; ``[]`` = filtered (:data:`TURNED_OFF` when the event's
    ``integrations`` object turns this destination off, see :mod:`._integrations`). The list
    may be shared (``TURNED_OFF``, ``NO_MATCH``): never modify it.

    The per-event hot path: a function generated for these subscriptions (one test per
    trigger, no loop; triggers of the form ``type = "..."`` share one read of the field, and
    when they are all of that form with distinct values, as the presets are, the function
    dispatches on the value), bound to the router rather than defined as a method (no
    bound-method call on the way in).
    """

    def __init__(
        self,
        steps: Sequence[tuple[Route, _Equality, _Trigger, _Step]],
        audience_names: Sequence[str],
        max_items: Sequence[int],
        *,
        binders: Mapping[int, Callable[[str], _Step]] | None = None,
        warnings: Sequence[str] = (),
        integrations: tuple[str, ...] | None = None,
        native: bool = True,
    ) -> None:
        self.routes = tuple(route for route, _, _, _ in steps)
        self._native = native
        self.audience_names = tuple(audience_names)
        self._max_items = dict(zip(self.routes, max_items, strict=True))
        self._steps = tuple(steps)
        self._binders = dict(binders or {})
        self._integrations = integrations
        self._alone = frozenset(r for r, limit in self._max_items.items() if limit == SINGLE)
        self.unbatched = tuple(route.name for route in self.routes if route in self._alone)
        self.compiled_routes = tuple(r.name for r, _, _, step in steps if is_native(step))
        self.warnings = tuple(warnings)
        routed = [(eq, trigger, step) for _, eq, trigger, step in steps]
        self.route = route_function(routed, integrations, native=native)
        exclusive = exclusive_equalities(routed)
        self._screened = None if exclusive is None or exclusive[0] == "integrations" else (
            exclusive[0], frozenset(exclusive[1]))

    def with_audience_ids(self, audience_ids: Mapping[str, str]) -> Router:
        """This router with its audiences' ids bound: a router that routes every event.

        Raises :class:`ConfigError` naming each route whose audience has no id.
        """
        steps = list(self._steps)
        problems: list[str] = []
        for position, bind in self._binders.items():
            route, equality, trigger, _ = steps[position]
            audience_id = audience_ids.get(route.audience or "")
            if not audience_id:
                problems.append(f"{route.name}: audience {route.audience!r}: no id was resolved")
                continue
            steps[position] = (route, equality, trigger, bind(audience_id))
        if problems:
            raise ConfigError("\n  ".join(["unresolved audiences:", *problems]), problems=problems)
        return Router(
            steps, self.audience_names, [self._max_items[r] for r in self.routes],
            warnings=self.warnings, integrations=self._integrations, native=self._native,
        )

    def value_screen(self) -> ValueScreen | None:
        """A new screen of JSON values for this router (see :mod:`._screen`), or ``None`` when its
        answer depends on more than one top-level field and ``integrations`` (some trigger is
        not ``field = "..."``, or two triggers read different fields or the same value)."""
        if self._screened is None:
            return None
        field, values = self._screened
        return ValueScreen(field, values, self._integrations)

    def max_items(self, route: Route) -> int:
        """Most items of ``route`` in one request (its mapping's batch settings, at most 500)."""
        return self._max_items[route] or 1

    def sends_alone(self, route: Route) -> bool:
        """Whether ``route`` sends each event alone (its mapping's ``enable_batching`` is false)."""
        return route in self._alone

    def __repr__(self) -> str:
        names = ", ".join(f"{r.name!r}->{r.action}" for r in self.routes)
        return f"<Router [{names}]>"


def compile_router(
    subscriptions: Sequence[SubscriptionConfig] | None,
    *,
    audience_ids: Mapping[str, str] | None = None,
    integrations: IntegrationsConfig | None = None,
    native_steps: bool = True,
) -> Router:
    """Compile ``subscriptions`` (``None``: the presets) into a :class:`Router`.

    ``integrations`` (``ortto.integrations``; ``None``: the defaults) says how an event's
    ``integrations`` object turns the destination off. ``native_steps=False`` runs every
    generated step and the router's function interpreted, even those the build has compiled
    ahead of time (the presets' as shipped): the tests compare the two.

    Raises :class:`ConfigError` listing every problem found, each naming its subscription.
    """
    configured = _preset_subscriptions() if subscriptions is None else list(subscriptions)
    problems: list[str] = []
    if len(configured) > MAX_SUBSCRIPTIONS:
        problems.append(
            f"subscriptions: {len(configured)} given, a destination holds at most "
            f"{MAX_SUBSCRIPTIONS}"
        )
    steps: list[tuple[Route, _Equality, _Trigger, _Step]] = []
    binders: dict[int, Callable[[str], _Step]] = {}
    limits: list[int] = []
    audience_names: list[str] = []
    warnings: list[str] = []
    for index, sub in enumerate(configured):
        if not sub.enabled:
            continue
        label = f"subscriptions.{index} ({sub.name!r})" if sub.name else f"subscriptions.{index}"
        found = len(problems)
        action = ACTIONS.get(sub.action)
        if action is None:
            known = ", ".join(sorted(ACTIONS))
            problems.append(f"{label}: unknown action {sub.action!r} (known: {known})")
        trigger = _compile(compile_trigger, sub.trigger, f"{label}: trigger", problems)
        mapping = _compile(compile_mapping, sub.mapping, f"{label}: mapping", problems)
        if action is not None:
            problems.extend(f"{label}: {p}" for p in mapping_problems(action, sub.mapping))
        audience = None
        if sub.audience is not None:
            audience = sub.audience.strip()
            if not audience:
                problems.append(f"{label}: audience: the name must not be blank")
            elif audience not in audience_names:
                audience_names.append(audience)
        audience_id = None
        if audience and audience_ids is not None:
            audience_id = audience_ids.get(audience)
            if not audience_id:
                problems.append(f"{label}: audience {audience!r}: no id was resolved for it")
        if len(problems) > found or action is None or trigger is None or mapping is None:
            continue
        route = Route(
            index=index,
            name=sub.name or f"subscriptions.{index}",
            action=action.name,
            path=action.path,
            audience=audience or None,
            config_hash=config_hash(sub),
        )
        limit = max_items_of(sub.mapping)
        if audience and audience_id is None:
            step = _unresolved_step(route)
            binders[len(steps)] = _binder(
                route, mapping, action, sub.mapping, single=limit == SINGLE, native=native_steps
            )
        else:
            step = _make_step(
                route, mapping, action, audience_id, sub.mapping, single=limit == SINGLE,
                native=native_steps,
            )
        # The trigger compiled, so it parses: its shape is read here once for the router.
        steps.append((route, field_equality(sub.trigger), trigger, step))
        limits.append(limit)
        warnings.extend(f"{label}: trigger: {w}" for w in trigger_warnings(sub.trigger))
        warnings.extend(
            f"{label}: {w}"
            for w in mapping_warnings(action, sub.mapping, single=limit == SINGLE)
        )
    if problems:
        summary = "invalid subscriptions:\n  " + "\n  ".join(problems)
        raise ConfigError(summary, problems=problems)
    return Router(
        steps, audience_names, limits, binders=binders, warnings=warnings,
        integrations=integration_names(integrations), native=native_steps,
    )


def _binder(
    route: Route,
    mapping: Callable[[Mapping[str, Any]], dict[str, Any]],
    action: Action,
    mapping_source: Mapping[str, Any],
    *,
    single: bool,
    native: bool,
) -> Callable[[str], _Step]:
    def bind(audience_id: str) -> _Step:
        return _make_step(
            route, mapping, action, audience_id, mapping_source, single=single, native=native
        )

    return bind


def config_hash(sub: SubscriptionConfig) -> str:
    """A short, stable hash of a subscription as configured (12 hex digits)."""
    canonical = orjson.dumps(
        {
            "name": sub.name,
            "trigger": sub.trigger,
            "action": sub.action,
            "mapping": sub.mapping,
            "enabled": sub.enabled,
            "audience": sub.audience,
        },
        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
    )
    return hashlib.sha256(canonical).hexdigest()[:12]


def _preset_subscriptions() -> list[SubscriptionConfig]:
    return [SubscriptionConfig.model_validate(p.as_subscription()) for p in presets()]


def _compile(
    compiler: Callable[[Any], Any], source: Any, label: str, problems: list[str]
) -> Any:
    try:
        return compiler(source)
    except MappingError as exc:
        problems.append(f"{label}: {exc}")
    except (TypeError, ValueError) as exc:  # a compiler bug must still name the subscription
        problems.append(f"{label}: {type(exc).__name__}: {exc}")
    return None


def _make_step(
    route: Route,
    mapping: Callable[[Mapping[str, Any]], dict[str, Any]],
    action: Action,
    audience_id: str | None,
    mapping_source: Mapping[str, Any],
    *,
    single: bool,
    native: bool,
) -> _Step:
    tags = audience_tags(audience_id) if audience_id else None
    settle = _settler(route, action, tags, single=single)
    rejected = Rejected
    check: Callable[[dict[str, Any]], dict[str, Any] | Refusal]
    if single:
        # The single-event path: top-level empty strings go first, then the general check
        # (the one specialised for the mapping counts on the keys the mapping writes).
        general = item_checker(action)

        def single_check(item: dict[str, Any]) -> dict[str, Any] | Refusal:
            return general(without_empty_strings(item))

        check = single_check
    else:
        # compile_processor's parts, composed here with the route bound in: one call less.
        check = item_checker(action, mapping_source)

    def step(event: Mapping[str, Any]) -> Outcome:
        try:
            item = mapping(event)
        except MappingError as exc:
            return rejected(route, 400, f"mapping failed: {exc}")
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
            # Not the event's fault, but one route must not take the others down with it.
            return rejected(route, 400, f"mapping failed ({type(exc).__name__}): {exc}")
        return settle(check(item))

    if single:
        return step
    # The same, generated as one function for the mappings that allow it (all real ones).
    return fused_step(
        route, action, mapping_source, tags, slow=step, settle=settle, native=native
    ) or step


def _settler(
    route: Route, action: Action, tags: Mapping[str, dict[str, str]] | None, *, single: bool
) -> Callable[[dict[str, Any] | Refusal], Outcome]:
    """What a checked item (or the refusal of one) becomes: the action's rules, the audience.

    On the single-event path (``single``) a refusal by the action's own rules is a skip: there
    Segment's action returns the refusal as a value instead of raising it, sends nothing and
    reports the event delivered.
    """
    prepare = action.prepare
    rejected = Rejected
    accepted = Accepted

    def settle(clean: dict[str, Any] | Refusal) -> Outcome:
        if type(clean) is not dict:
            return rejected(route, clean.status, clean.message)  # type: ignore[union-attr]
        if prepare is not None:
            verdict = prepare(clean)
            if verdict is not None:
                if type(verdict) is Refusal:
                    if single:
                        return Skipped(route, f"{verdict.message} (not sent: one-at-a-time "
                                              "mapping, Segment reports it delivered)")
                    return rejected(route, verdict.status, verdict.message)
                return Skipped(route, verdict.reason)  # type: ignore[union-attr]
        if tags is not None:
            tag = tags.get(clean.get("audience_update_mode", ""))
            if tag is not None:
                # A new root: the mapped item may be a value the mapping engine hands out again.
                return accepted(route, {**clean, "audience": tag})
        return accepted(route, clean)

    return settle


def _unresolved_step(route: Route) -> _Step:
    def step(event: Mapping[str, Any]) -> Outcome:
        raise RuntimeError(
            f"route {route.name!r} uses audience {route.audience!r} but the router was "
            "compiled without its id: pass audience_ids to compile_router"
        )

    return step
