"""The batch fast path: prove a whole request's items valid with a few C-level passes.

Checking items one by one costs a few microseconds each in CPython (a function call, a tuple
of keys, a dozen type tests), which made validation the sandbox's biggest cost after JSON
parsing. Benchmarks send batches whose items share one key set (or a few: a mapping leaves out
the fields an event lacks), so instead of walking each item, :func:`verdict` checks the batch
*column by column*, one column per field of a key set: ``map(itemgetter(...), items)``
feeds ``set``/``str.join``/``set.union``, which loop in C. Examples: ``"".join`` of every
string-typed field fails with TypeError unless all of them are strings; ``set(modes) <=
{"add", "remove"}``; the distinct ``ip`` values are checked once each (and remembered).

It only answers "every item is valid": anything it cannot prove (a non-object item, more than
``_MAX_GROUPS`` key orders, an ``audience`` key, which needs the store, or any invalid value)
returns None and the caller falls back to the per-item checks of ``_validate.py``, which write the
messages. So it must never say valid when :func:`~._validate.check_activity` /
:func:`~._validate.check_contact` would refuse an item; ``tests/sandbox`` compare both on
generated batches.

It is only used on items just decoded from JSON (``orjson.loads``), whose values have exact
types: a ``str`` subclass, which ``"".join`` would accept, cannot occur.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import chain
from operator import itemgetter, methodcaller
from typing import Any, Final

from ._validate import ALLOWED_LOCATION_KEYS, ip_ok

__all__ = ["Batch", "verdict"]

_NONE_TYPE: Final = type(None)
_DICT_ONLY: Final = frozenset({dict})
_BOOL_ONLY: Final = frozenset({bool})
_NUMBERS: Final = frozenset({int, float})
_OPTIONAL_STR: Final = frozenset({str, _NONE_TYPE})
_MODES: Final = frozenset({"add", "remove"})
_MAX_PLANS: Final = 256
_MAX_GROUPS: Final = 8
_KEYS: Final = itemgetter("message_id", "timestamp")
_USER_ID: Final = methodcaller("get", "user_id")
_ANONYMOUS_ID: Final = methodcaller("get", "anonymous_id")
_MAX_REMEMBERED: Final = 65536

# Values seen valid before, so a batch only checks the ones it is the first to send. Only
# valid values are added (an invalid one sends its batch to the per-item path anyway).
_good_ips: set[str | None] = {None}
_good_events: set[str] = set()

_STRING_FIELDS: Final = ("timestamp", "message_id", "user_id", "anonymous_id")
_ACTIVITY_STRING_FIELDS: Final = (*_STRING_FIELDS, "namespace", "event")
_OBJECT_FIELDS: Final = ("location", "traits")
_ACTIVITY_OBJECT_FIELDS: Final = (*_OBJECT_FIELDS, "properties")


class Batch:
    """What the store needs of a batch proven valid: its de-duplication keys and identities."""

    __slots__ = ("anonymous_ids", "keys", "size", "user_ids")

    def __init__(
        self,
        size: int,
        keys: list[tuple[str, str]] | None,
        user_ids: Sequence[str | None] | None,
        anonymous_ids: Sequence[str | None] | None,
    ) -> None:
        self.size = size
        self.keys = keys
        """``(message_id, timestamp)`` of each item, or None when the items lack one of them."""
        self.user_ids = user_ids
        """Each item's ``user_id`` (None where it has none), or None when no item has one; the
        store reads it (and ``anonymous_ids``) of contacts only, whose identities it keeps."""
        self.anonymous_ids = anonymous_ids


class _Plan:
    """The column checks of one key set, compiled once and kept in ``_plans``.

    ``columns`` fetches every field of an item in a fixed order (KeyError when one is
    missing); the checks then name columns by their position in that order.
    """

    __slots__ = (
        "anonymous_ids",
        "bools",
        "columns",
        "event",
        "ip",
        "keys",
        "location",
        "mode",
        "numbers",
        "objects",
        "strings",
        "user_ids",
        "width",
    )

    def __init__(self, fields: frozenset[str], *, activity: bool) -> None:
        string_fields = _ACTIVITY_STRING_FIELDS if activity else _STRING_FIELDS
        object_fields = _ACTIVITY_OBJECT_FIELDS if activity else _OBJECT_FIELDS
        order = sorted(fields)
        self.width = len(order)
        fetch = itemgetter(*order)
        # itemgetter of one field answers the value itself, not a 1-tuple.
        self.columns: Callable[[Any], tuple[Any, ...]] = (
            fetch if len(order) > 1 else lambda item: (fetch(item),)
        )

        def at(name: str) -> int | None:
            return order.index(name) if name in fields else None

        def all_at(names: Sequence[str]) -> list[int]:
            return [order.index(name) for name in names if name in fields]

        self.strings = all_at(string_fields)
        self.objects = all_at(object_fields)
        self.bools = at("enable_batching")
        self.numbers = at("batch_size")
        self.mode = at("audience_update_mode")
        self.ip = at("ip")
        self.location = at("location")
        self.event = at("event") if activity else None
        message_id, timestamp = at("message_id"), at("timestamp")
        self.keys = None if message_id is None or timestamp is None else (message_id, timestamp)
        self.user_ids = at("user_id")
        self.anonymous_ids = at("anonymous_id")


_plans: dict[tuple[frozenset[str], bool], _Plan] = {}


def _plan(fields: frozenset[str], activity: bool) -> _Plan | None:
    if "audience" in fields:
        return None  # joining an audience needs the store: the per-item path
    if "user_id" not in fields and "anonymous_id" not in fields:
        return None
    if activity and "event" not in fields:
        return None
    plan = _plans.get((fields, activity))
    if plan is None:
        plan = _Plan(fields, activity=activity)
        if len(_plans) < _MAX_PLANS:
            _plans[(fields, activity)] = plan
    return plan


def verdict(items: list[Any], *, activity: bool) -> Batch | None:
    """A :class:`Batch` when every item is valid (and has no ``audience``), else None."""
    if not items:
        return None
    try:
        plan = _plan(frozenset(items[0]), activity)
        if plan is None:
            return None
        try:
            # Every item has all the first item's keys (else KeyError; TypeError for a
            # non-object) and no other (as many keys): one plan covers the whole batch.
            columns = list(zip(*map(plan.columns, items), strict=True))
            uniform = set(map(len, items)) == {plan.width}
        except KeyError:
            uniform = False
        if not uniform:
            return _mixed(items, activity=activity)
        if not _valid(plan, columns):
            return None
    except TypeError:  # a non-object item, "".join of a non-string, an unhashable in a set
        return None
    keys = None
    if plan.keys is not None:
        message_ids, timestamps = plan.keys
        keys = list(zip(columns[message_ids], columns[timestamps], strict=True))
    user_ids = None if plan.user_ids is None else columns[plan.user_ids]
    anonymous_ids = None if plan.anonymous_ids is None else columns[plan.anonymous_ids]
    return Batch(len(items), keys, user_ids, anonymous_ids)


def _mixed(items: list[Any], *, activity: bool) -> Batch | None:
    """The items of a few key sets (fields a mapping leaves out when the event lacks them):
    each key set checked as a batch of its own. Raises TypeError for a non-object item."""
    if set(map(type, items)) != _DICT_ONLY:
        return None
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for item in items:
        shape = tuple(item)
        group = groups.get(shape)
        if group is None:
            if len(groups) == _MAX_GROUPS:
                return None
            group = groups[shape] = []
        group.append(item)
    with_keys = 0
    for shape, group in groups.items():
        plan = _plan(frozenset(shape), activity)
        if plan is None or not _valid(plan, list(zip(*map(plan.columns, group), strict=True))):
            return None
        with_keys += plan.keys is not None
    if with_keys not in (0, len(groups)):
        return None  # some items de-duplicate and some do not: the per-item path sorts that
    keys = list(map(_KEYS, items)) if with_keys else None
    if activity:  # identities are only needed of contacts
        return Batch(len(items), keys, None, None)
    user_ids = list(map(_USER_ID, items))
    anonymous_ids = list(map(_ANONYMOUS_ID, items))
    return Batch(len(items), keys, user_ids, anonymous_ids)


def _valid(plan: _Plan, columns: list[tuple[Any, ...]]) -> bool:
    """Whether every item is valid, from the columns of a batch of one key set."""
    if plan.strings:
        "".join(chain.from_iterable([columns[at] for at in plan.strings]))
    if plan.objects:
        objects = chain.from_iterable([columns[at] for at in plan.objects])
        if set(map(type, objects)) != _DICT_ONLY:
            return False
    if plan.bools is not None and set(map(type, columns[plan.bools])) != _BOOL_ONLY:
        return False
    if plan.numbers is not None and not set(map(type, columns[plan.numbers])) <= _NUMBERS:
        return False
    if plan.mode is not None and not set(columns[plan.mode]) <= _MODES:
        return False
    if plan.ip is not None and not _ips_ok(set(columns[plan.ip])):
        return False
    if plan.location is not None and not _locations_ok(columns[plan.location]):
        return False
    return plan.event is None or _events_ok(set(columns[plan.event]))


def _ips_ok(distinct: set[Any]) -> bool:
    for value in distinct - _good_ips:
        if type(value) is not str or not ip_ok(value):
            return False
        if len(_good_ips) < _MAX_REMEMBERED:
            _good_ips.add(value)
    return True


def _events_ok(distinct: set[str]) -> bool:
    # The events are known to be strings here (checked with the other string fields).
    for event in distinct - _good_events:
        if event == "" or event.isspace():
            return False
        if len(_good_events) < _MAX_REMEMBERED:
            _good_events.add(event)
    return True


def _locations_ok(locations: tuple[dict[str, Any], ...]) -> bool:
    # The locations are known to be objects here (checked with the other object fields).
    if not set().union(*locations) <= ALLOWED_LOCATION_KEYS:
        return False
    values = list(chain.from_iterable(map(dict.values, locations)))
    try:
        "".join(values)  # the usual case, no null: cheaper than collecting the types
    except TypeError:
        return set(map(type, values)) <= _OPTIONAL_STR
    return True
