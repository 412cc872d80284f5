"""One compile function per mapping-kit directive, registered in :data:`DIRECTIVES`.

Each function receives the directive's options (the JSON under the ``@name`` key) and a
:class:`~._nodes.Context`, and returns a :class:`~._nodes.Compiled` node. Options are read
once here: paths are split, templates parsed, flags defaulted, branches compiled. What
Segment checks only when the directive runs (``@if`` without ``exists``/``blank``, ``@json``
without a value, a ``@merge`` without direction, ...) becomes a :func:`~._nodes.failing` node,
so the error appears when, and only when, Segment's would.

The rules are those of ``@segment/actions-core`` 3.170 (truthiness of options is
JavaScript's: ``{"else": 0}`` counts as no ``else``). Directives that read nothing from the
payload fold to constants when their inputs are constant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import orjson

from .._exceptions import MappingError
from ._js import UNDEFINED, is_number, json_stringify, loose_ne_empty, to_string, truthy, type_name
from ._liquid import compile_liquid
from ._nodes import Compiled, Context, constant, dynamic, failing, fold
from ._ops import (
    Template,
    assign,
    change_case,
    clean_nulls,
    expect_string,
    flatten,
    json_decode,
    remove_undefined,
    replace_literal,
    strip_undefined,
)
from ._paths import get_path, make_getter, split_mapping_path
from ._validate import validation_problems

__all__ = ["DIRECTIVES"]

_NOTHING = constant(UNDEFINED)


def _getter_node(path: str, ctx: Context) -> Compiled:
    keys = split_mapping_path(path)
    plan = ("path", keys) if ctx.payload_clean else None
    return dynamic(make_getter(keys), clean=ctx.payload_clean, plan=plan)


@lru_cache(maxsize=256)
def _split(path: str) -> tuple[str, ...]:
    return split_mapping_path(path)


@lru_cache(maxsize=256)
def _template(source: str) -> Template:
    return Template(source)


def _path(options: Any, ctx: Context) -> Compiled:
    if isinstance(options, str):
        return _getter_node(options, ctx)
    if not isinstance(options, dict | list):
        return failing(f"@path: expected string, got {type_name(options)}")
    inner = ctx.child(options)  # a directive computing the path (or an object: an error)
    return dynamic(
        lambda payload: get_path(payload, _split(expect_string("@path", inner.value(payload)))),
        clean=ctx.payload_clean,
    )


def _template_directive(options: Any, ctx: Context) -> Compiled:
    if isinstance(options, str):
        return dynamic(Template(options).render, clean=True)
    if not isinstance(options, dict | list):
        return failing(f"@template: expected string, got {type_name(options)}")
    inner = ctx.child(options)
    return dynamic(
        lambda payload: _template(expect_string("@template", inner.value(payload))).render(payload),
        clean=True,
    )


def _literal(options: Any, ctx: Context) -> Compiled:
    return ctx.child(options)


def _same_json(first: Any, second: Any) -> bool:
    try:
        return orjson.dumps(first) == orjson.dumps(second)
    except TypeError:
        return False


def _if(options: Any, ctx: Context) -> Compiled:
    if not isinstance(options, dict):
        return failing('@if requires an object with an "exists" key')
    if not truthy(options.get("exists", UNDEFINED)) and not truthy(options.get("blank", UNDEFINED)):
        return failing('@if requires an "exists" key or a "blank" key')
    by_existence = "exists" in options
    condition = ctx.child(options["exists"] if by_existence else options["blank"])
    then = ctx.child(options["then"]) if "then" in options else _NOTHING
    other = ctx.child(options["else"]) if truthy(options.get("else", UNDEFINED)) else _NOTHING

    def holds(value: Any) -> bool:
        if value is None or value is UNDEFINED:
            return False
        return by_existence or loose_ne_empty(value)

    if condition.constant:
        return then if holds(condition.value(None)) else other
    test, then_value, then_final = condition.value, then.value, then.final
    other_value, other_final = other.value, other.final
    clean = then.clean and other.clean
    if (
        by_existence
        and "then" in options
        and condition.clean
        and _same_json(options["exists"], options["then"])
    ):
        # "exists X then X else Y", as in the Ortto presets: look X up once.
        def present_or_else(payload: Any) -> Any:
            found = test(payload)
            if found is not None and found is not UNDEFINED:
                return found
            return other_value(payload)

        def present_or_else_final(payload: Any) -> Any:
            found = test(payload)
            if found is not None and found is not UNDEFINED:
                return found
            return other_final(payload)

        reuse_plan = ("if", condition, None, other, True, True)
        return dynamic(present_or_else, clean=clean, final=present_or_else_final, plan=reuse_plan)

    def choose(payload: Any) -> Any:
        return then_value(payload) if holds(test(payload)) else other_value(payload)

    def choose_final(payload: Any) -> Any:
        return then_final(payload) if holds(test(payload)) else other_final(payload)

    plan = ("if", condition, then, other, by_existence, False)
    return dynamic(choose, clean=clean, final=choose_final, plan=plan)


def _case(options: Any, ctx: Context) -> Compiled:
    if not isinstance(options, dict):
        return failing('@case requires an object with a "operator" key')
    operator = options.get("operator", UNDEFINED)
    if not truthy(operator):
        return failing('@case requires a "operator" key')
    if not truthy(options.get("value", UNDEFINED)):
        return _NOTHING
    inner = ctx.child(options["value"])
    value, final = inner.value, inner.final
    node = dynamic(
        lambda payload: change_case(value(payload), operator),
        clean=inner.clean,
        final=lambda payload: change_case(final(payload), operator),
    )
    return fold(node, inner)


def _option(options: dict[str, Any], key: str, default: Any) -> Any:
    """``opts.key`` defaulted the way ``opts.key == null`` does (null or missing)."""
    value = options.get(key)
    return default if value is None else value


def _replace(options: Any, ctx: Context) -> Compiled:
    if not isinstance(options, dict):
        return failing('@replace requires an object with a "pattern" key')
    pattern = options.get("pattern", UNDEFINED)
    if not truthy(pattern):
        return failing('@replace requires a "pattern" key')
    replacement = _option(options, "replacement", "")
    pattern2 = options.get("pattern2", UNDEFINED)
    replacement2 = (
        _option(options, "replacement2", "")
        if truthy(pattern2)
        else options.get("replacement2", UNDEFINED)
    )
    ignorecase = _option(options, "ignorecase", False)
    every = _option(options, "global", True)
    if not truthy(options.get("value", UNDEFINED)):
        return _NOTHING
    inner = ctx.child(options["value"])
    usable = (
        isinstance(pattern, str)
        and isinstance(replacement, str)
        and isinstance(ignorecase, bool)
        and isinstance(every, bool)
    )
    second = truthy(pattern2) and isinstance(pattern2, str) and isinstance(replacement2, str)

    def apply(value: Any) -> str:
        if isinstance(value, bool) or is_number(value):
            value = to_string(value)
        if not (usable and isinstance(value, str)):
            return ""
        result = replace_literal(value, pattern, replacement, every=every, ignorecase=ignorecase)
        if second:
            result = replace_literal(
                result, pattern2, replacement2, every=every, ignorecase=ignorecase
            )
        return result

    resolve = inner.value
    return fold(dynamic(lambda payload: apply(resolve(payload)), clean=True), inner)


def _array_path(options: Any, ctx: Context) -> Compiled:
    if not isinstance(options, list):
        return failing(f"@arrayPath expected array, got {type_name(options)}")
    path = options[0] if options else UNDEFINED
    shape = options[1] if len(options) > 1 else UNDEFINED
    root = _getter_node(path, ctx) if isinstance(path, str) else ctx.child(path)
    if not (isinstance(shape, dict) and shape):
        return root
    item = ctx.with_payload(clean=root.clean).child(shape)
    root_value, root_final, item_value, item_final = root.value, root.final, item.value, item.final

    def value(payload: Any) -> Any:
        found = root_value(payload)
        if isinstance(found, Mapping):
            return [item_value(found)]
        if isinstance(found, list):
            return [item_value(element) for element in found]
        return found

    def final(payload: Any) -> Any:
        found = root_value(payload)
        if isinstance(found, Mapping):
            items = [item_final(found)]
        elif isinstance(found, list):
            items = [item_final(element) for element in found]
        else:
            return root_final(payload)
        return [None if entry is UNDEFINED else entry for entry in items]

    return dynamic(value, clean=False, final=final)


def _json(options: Any, ctx: Context) -> Compiled:
    if not isinstance(options, dict):
        return failing('@json requires an object with a "value" key')
    mode = options.get("mode", UNDEFINED)
    if not truthy(mode):
        return failing('@json requires a "mode" key')
    if not truthy(options.get("value", UNDEFINED)):
        return failing('@json requires a "value" key')
    inner = ctx.child(options["value"])
    value, final = inner.value, inner.final
    if mode == "encode":
        node = dynamic(lambda payload: json_stringify(value(payload)), clean=True)
    elif mode == "decode":
        node = dynamic(
            lambda payload: json_decode(value(payload)),
            clean=inner.clean,
            final=lambda payload: json_decode(final(payload)),
        )
    else:  # another spelling passes validation ("Encode"), then resolves to undefined
        node = dynamic(lambda payload: (value(payload), UNDEFINED)[1], clean=True)
    return fold(node, inner)


def _flatten(options: Any, ctx: Context) -> Compiled:
    if not isinstance(options, dict):
        return failing('@flatten requires an object with a "separator" key')
    if not truthy(options.get("separator", UNDEFINED)):
        return failing('@flatten requires a "separator" key')
    separator = ctx.child(options["separator"])
    inner = ctx.child(options.get("value", UNDEFINED))
    omit_arrays = truthy(options.get("omitArrays", UNDEFINED))
    separator_value, value = separator.value, inner.value

    def flattened(payload: Any) -> Any:
        glue = separator_value(payload)
        if not isinstance(glue, str):
            raise MappingError("@flatten requires a string separator")
        return flatten(value(payload), glue, omit_arrays)

    return fold(dynamic(flattened, clean=False), separator, inner)


def _typeof(value: Any) -> str:
    kind = type_name(value)
    return "object" if kind in ("array", "null") else kind


def _merge(options: Any, ctx: Context) -> Compiled:
    if not isinstance(options, dict):
        return failing('@merge requires an object with an "objects" key and a "direction" key')
    if not truthy(options.get("direction", UNDEFINED)):
        return failing('@merge requires a "direction" key')
    direction = ctx.child(options["direction"])
    objects = options.get("objects", UNDEFINED)
    if not truthy(objects):
        return failing('@merge requires a "objects" key')
    if not isinstance(objects, list):
        return failing(f"@merge: expected opts.array, got {_typeof(objects)}")
    parts = [ctx.child(item) for item in objects]
    direction_value = direction.value
    evaluators = [part.value for part in parts]

    def merged(payload: Any) -> Any:
        leftmost_wins = direction_value(payload) == "left"
        values = [evaluate(payload) for evaluate in evaluators]
        return assign(values[::-1] if leftmost_wins else values)

    return fold(dynamic(merged, clean=False), direction, *parts)


def _transform(options: Any, ctx: Context) -> Compiled:
    if not isinstance(options, dict):
        return failing('@transform requires an object with an "apply" key and a "mapping" key')
    if not truthy(options.get("mapping", UNDEFINED)):
        return failing('@transform requires a "mapping" key')
    apply = options.get("apply", UNDEFINED)
    if not truthy(apply):
        return failing('@transform requires a "apply" key')
    if not isinstance(apply, dict):
        return failing('@transform "apply" key should be an object')
    problems = validation_problems(apply)
    if problems:  # Segment validates "apply" each time the directive runs
        return failing("@transform: invalid apply mapping: " + "; ".join(problems))
    applied = ctx.child(apply)
    # The new payload is removeUndefined(apply): arrays in it may still hold undefined items.
    mapping = ctx.with_payload(clean=applied.clean).child(options["mapping"])
    apply_value, mapping_value, mapping_final = applied.value, mapping.value, mapping.final

    def new_payload(payload: Any) -> Any:
        if not isinstance(payload, Mapping):
            raise MappingError(f"@transform: data must be an object, got {type_name(payload)}")
        return remove_undefined(apply_value(payload))

    return dynamic(
        lambda payload: mapping_value(new_payload(payload)),
        clean=mapping.clean,
        final=lambda payload: mapping_final(new_payload(payload)),
    )


def _exclude_when_null(options: Any, ctx: Context) -> Compiled:
    inner = ctx.child(options)
    value = inner.value

    def excluded(payload: Any) -> Any:
        resolved = value(payload)
        return UNDEFINED if resolved is None else clean_nulls(resolved)

    return fold(
        dynamic(excluded, clean=False, final=lambda payload: strip_undefined(excluded(payload))),
        inner,
    )


def _liquid(options: Any, _ctx: Context) -> Compiled:
    return dynamic(compile_liquid(options), clean=True)


DIRECTIVES: dict[str, Callable[[Any, Context], Compiled]] = {
    "@arrayPath": _array_path,
    "@case": _case,
    "@excludeWhenNull": _exclude_when_null,
    "@flatten": _flatten,
    "@if": _if,
    "@json": _json,
    "@liquid": _liquid,
    "@literal": _literal,
    "@merge": _merge,
    "@path": _path,
    "@replace": _replace,
    "@template": _template_directive,
    "@transform": _transform,
}
