"""What the sandbox refuses: API keys of the wrong shape, and contact/activity items that break
the contract (``ortto-destination.md``, section "Items").

Unknown top-level keys are tolerated (Ortto ignores what it does not know); the keys the contract
types are checked strictly (``bool`` is not a number, ``null`` is only allowed for ``ip`` and
the ``location`` fields), and each problem names its field, e.g. ``ip: must be an IPv4 address
string or null``. Several problems of one item are joined with ``"; "``.

Speed: these checks run on every item of every benchmark, and a loop over an item's keys costs
a few microseconds in CPython. So each check has two halves:

* a *fast path*, specialised per item shape (the tuple of its keys, in order): the first item of
  a shape compiles a small function that unpacks ``item.values()`` and tests each typed value
  inline, answering only "valid or not". Items of one mapping share one shape, so a batch pays
  the compilation once; at most ``_MAX_SHAPES`` shapes are kept, past that the slow path runs
  alone. Keys never reach the generated source (values are named by position), so an item
  cannot inject code.
* the *slow path* (:func:`_explain`), plain code that walks the item and writes the messages.
  It is authoritative: it runs whenever the fast path says "invalid", and the tests check that
  both halves agree on generated items.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from .._exceptions import InvalidApiKeyError
from ..sender._region import check_api_key

__all__ = [
    "ALLOWED_LOCATION_KEYS",
    "check_activity",
    "check_contact",
    "ip_ok",
    "is_valid_key_shape",
    "parse_bearer",
]

ALLOWED_LOCATION_KEYS: Final = frozenset({"country", "state", "city", "post_code"})
_LOCATION_KEYS_TEXT: Final = ", ".join(sorted(ALLOWED_LOCATION_KEYS))
_UPDATE_MODES: Final = frozenset({"add", "remove"})
_MAX_SHAPES: Final = 1024
_MAX_CACHED_IPS: Final = 65536

# The "ipv4" format as Segment's validator (ajv-formats 2.1.1) checks it: four dotted octets of
# one to three ASCII digits worth at most 255, leading zeros allowed ("001.2.3.4"), nothing
# before or after (fullmatch: unlike Python's `$`, JavaScript's admits no trailing newline).
_IPV4: Final = re.compile(
    r"(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)(?:\.(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)){3}"
)
# JavaScript's WhiteSpace and LineTerminator code points: what String.prototype.trim removes.
# Python's str.isspace() differs (it counts "\x1c"-"\x1f" and "\x85", not "\ufeff").
_JS_WHITESPACE: Final = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_ip_verdicts: dict[str, bool] = {}


def is_valid_key_shape(key: str) -> bool:
    """A key looks like ``pau-XXXX``: environment, two-letter region, then ``-`` at index 3.

    The client's own rule (:func:`streamer.sender.check_api_key`), so that the sandbox and the
    sender never disagree on which keys exist."""
    try:
        check_api_key(key)
    except InvalidApiKeyError:
        return False
    return True


def parse_bearer(header: str | None) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header, or None when there is none."""
    if header is None or len(header) < 8 or header[:7].lower() != "bearer ":
        return None
    key = header[7:].strip()
    return key or None


def check_contact(item: Any) -> str | None:
    """Why a contact item (``/v1/identify``) is refused, or None when it is acceptable."""
    if type(item) is dict:
        fast = _contact_shapes.get(tuple(item)) or _shape_check(item, activity=False)
        if fast(item):
            return None
    return _explain(item, activity=False)


def check_activity(item: Any) -> str | None:
    """Why an activity item (``/v1/track``) is refused, or None when it is acceptable."""
    if type(item) is dict:
        fast = _activity_shapes.get(tuple(item)) or _shape_check(item, activity=True)
        if fast(item):
            return None
    return _explain(item, activity=True)


# -- value checks shared by both paths ----------------------------------------------------------


def ip_ok(value: str) -> bool:
    """Whether a string is a dotted-quad IPv4 address (verdicts remembered, bounded)."""
    verdict = _ip_verdicts.get(value)
    if verdict is None:
        verdict = _IPV4.fullmatch(value) is not None
        if len(_ip_verdicts) < _MAX_CACHED_IPS:
            _ip_verdicts[value] = verdict
    return verdict


def _location_ok(location: dict[str, Any]) -> bool:
    if not location.keys() <= ALLOWED_LOCATION_KEYS:
        return False
    # A plain loop: all() over a generator costs twice as much on this hot path.
    for value in location.values():  # noqa: SIM110
        if value is not None and type(value) is not str:
            return False
    return True


def _mode_ok(mode: Any) -> bool:
    return type(mode) is str and mode in _UPDATE_MODES


def _audience_ok(audience: dict[str, Any]) -> bool:
    audience_id = audience.get("id")
    return _mode_ok(audience.get("mode")) and type(audience_id) is str and audience_id != ""


# -- fast path ----------------------------------------------------------------------------------

# Field -> inline test of its value (named `{v}`), for the fields both actions share.
_COMMON_TESTS: Final[dict[str, str]] = {
    "timestamp": "type({v}) is str",
    "message_id": "type({v}) is str",
    "user_id": "type({v}) is str",
    "anonymous_id": "type({v}) is str",
    "enable_batching": "type({v}) is bool",
    "ip": "({v} is None or (type({v}) is str and ip_ok({v})))",
    "location": "(type({v}) is dict and location_ok({v}))",
    "traits": "type({v}) is dict",
    "audience_update_mode": "(type({v}) is str and {v} in MODES)",
    "batch_size": "(type({v}) is int or type({v}) is float)",
    "audience": "(type({v}) is dict and audience_ok({v}))",
}
_ACTIVITY_TESTS: Final[dict[str, str]] = {
    **_COMMON_TESTS,
    "event": "(type({v}) is str and {v}.strip(JS_WHITESPACE) != '')",
    "namespace": "type({v}) is str",
    "properties": "type({v}) is dict",
}
_GLOBALS: Final[dict[str, Any]] = {
    "ip_ok": ip_ok,
    "location_ok": _location_ok,
    "audience_ok": _audience_ok,
    "MODES": _UPDATE_MODES,
    "JS_WHITESPACE": _JS_WHITESPACE,
}
_ShapeCheck = Callable[[dict[str, Any]], object]
"""Truthy when the item is valid (the value of the last test, to save a bool() call)."""
_contact_shapes: dict[tuple[str, ...], _ShapeCheck] = {}
_activity_shapes: dict[tuple[str, ...], _ShapeCheck] = {}


def _never(item: dict[str, Any]) -> object:
    return False


def _shape_check(item: dict[str, Any], *, activity: bool) -> _ShapeCheck:
    """The fast check of a shape seen for the first time (compiled and kept, if room)."""
    shapes = _activity_shapes if activity else _contact_shapes
    if len(shapes) >= _MAX_SHAPES:
        return _never  # the slow path decides
    keys = tuple(item)
    check = shapes[keys] = _compile_shape(keys, activity=activity)
    return check


def _compile_shape(keys: tuple[str, ...], *, activity: bool) -> _ShapeCheck:
    """A function telling whether an item with exactly these keys, in order, is valid."""
    tests_by_field = _ACTIVITY_TESTS if activity else _COMMON_TESTS
    names = [f"v{position}" for position in range(len(keys))]
    tests = [
        tests_by_field[key].format(v=name)
        for key, name in zip(keys, names, strict=True)
        if key in tests_by_field
    ]
    present = set(keys)
    if ("user_id" not in present and "anonymous_id" not in present) or (
        activity and "event" not in present
    ):
        tests = ["False"]  # a required field is missing: always the slow path
    if not names:
        source = "def check(item):\n    return False\n"
    else:
        source = (
            "def check(item):\n"
            f"    ({', '.join(names)},) = item.values()\n"
            f"    return {' and '.join(tests) or 'True'}\n"
        )
    namespace = dict(_GLOBALS)
    exec(compile(source, "<sandbox item shape>", "exec"), namespace)
    check: _ShapeCheck = namespace["check"]
    return check


# -- slow path: the messages ------------------------------------------------------------------

_TYPE_RULES: Final[dict[str, tuple[tuple[type, ...], str]]] = {
    "timestamp": ((str,), "must be a date-time string"),
    "message_id": ((str,), "must be a string"),
    "user_id": ((str,), "must be a string"),
    "anonymous_id": ((str,), "must be a string"),
    "enable_batching": ((bool,), "must be a boolean"),
    "ip": ((str, type(None)), "must be an IPv4 address string or null"),
    "location": ((dict,), "must be an object"),
    "traits": ((dict,), "must be an object"),
    "audience_update_mode": ((str,), "must be 'add' or 'remove'"),
    "batch_size": ((int, float), "must be a number"),
    "audience": ((dict,), "must be an object with 'mode' and 'id'"),
}
_ACTIVITY_TYPE_RULES: Final[dict[str, tuple[tuple[type, ...], str]]] = {
    **_TYPE_RULES,
    "event": ((str,), "must be a non-blank string"),
    "namespace": ((str,), "must be a string"),
    "properties": ((dict,), "must be an object"),
}


def _explain(item: Any, *, activity: bool) -> str | None:
    """Every problem of an item, in one message (None: it is valid)."""
    if type(item) is not dict:
        return "item: must be a JSON object"
    rules = _ACTIVITY_TYPE_RULES if activity else _TYPE_RULES
    problems: list[str] = []
    for key, value in item.items():
        rule = rules.get(key)
        if rule is None:
            continue
        if type(value) not in rule[0]:
            problems.append(f"{key}: {rule[1]}")
        elif key == "ip":
            if value is not None and not ip_ok(value):
                problems.append("ip: must be an IPv4 address string or null")
        elif key == "location":
            problems.extend(_location_problems(value))
        elif key == "audience_update_mode":
            if value not in _UPDATE_MODES:
                problems.append(f"audience_update_mode: {rule[1]}")
        elif key == "audience":
            problems.extend(_audience_problems(value))
        elif key == "event" and not value.strip(_JS_WHITESPACE):
            problems.append("event: missing event name (blank)")
    if "user_id" not in item and "anonymous_id" not in item:
        problems.append("user_id: required when anonymous_id is missing")
    if activity and "event" not in item:
        problems.append("event: missing event name (required)")
    return "; ".join(problems) if problems else None


def _location_problems(location: dict[str, Any]) -> list[str]:
    problems = []
    for key, value in location.items():
        if key not in ALLOWED_LOCATION_KEYS:
            problems.append(f"location: unknown key {key!r} (allowed: {_LOCATION_KEYS_TEXT})")
        elif value is not None and type(value) is not str:
            problems.append(f"location.{key}: must be a string or null")
    return problems


def _audience_problems(audience: dict[str, Any]) -> list[str]:
    problems = []
    if not _mode_ok(audience.get("mode")):
        problems.append("audience.mode: must be 'add' or 'remove'")
    audience_id = audience.get("id")
    if type(audience_id) is not str or not audience_id:
        problems.append("audience.id: must be a non-empty string")
    return problems
