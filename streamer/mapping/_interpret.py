"""A deliberately plain reference interpreter of mapping-kit, for tests.

This walks the mapping for every event, exactly in the shape of Segment's ``resolve``: no
compilation, no folding, no specialisation, no generated code. It is slow and obviously
follows the rules, which is the point: the property tests check that the compiled mappers
of :mod:`._compile` (closures, constant folding, ``final`` shortcuts, :mod:`._codegen`) give
the same answers on generated mappings and events. Both share the leaf operations of
:mod:`._ops` and the Liquid engine; everything structural is written twice, independently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._exceptions import MappingError
from ._js import UNDEFINED, is_number, json_stringify, loose_ne_empty, to_string, truthy, type_name
from ._liquid import compile_liquid
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
from ._paths import get_path, split_mapping_path
from ._validate import validation_problems

__all__ = ["interpret"]


def interpret(mapping: dict[str, Any], event: Mapping[str, Any]) -> dict[str, Any]:
    """Segment's ``transform(mapping, event)``: validate, resolve, remove undefined."""
    problems = validation_problems(mapping)
    if problems:
        raise MappingError("invalid mapping: " + "; ".join(problems))
    if not isinstance(event, Mapping):
        raise MappingError(f"data must be an object, got {type_name(event)}")
    return strip_undefined(resolve(mapping, event))  # type: ignore[no-any-return]


def _directive_name(value: dict[str, Any]) -> str | None:
    names = [k for k in value if k.startswith("@")]
    others = [k for k in value if not k.startswith("@") and k != "_metadata"]
    return names[0] if names and not others else None


def resolve(mapping: Any, payload: Any) -> Any:
    if isinstance(mapping, dict):
        name = _directive_name(mapping)
        if name is None:
            return {key: resolve(value, payload) for key, value in mapping.items()}
        directive = _DIRECTIVES.get(name)
        if directive is None:
            raise MappingError(f"{name} is not a valid directive, got undefined")
        return directive(mapping[name], payload)
    if isinstance(mapping, list):
        return [resolve(value, payload) for value in mapping]
    return mapping


def _get(opts: Any, key: str) -> Any:
    return opts.get(key, UNDEFINED)


def _if(opts: Any, payload: Any) -> Any:
    if not isinstance(opts, dict):
        raise MappingError('@if requires an object with an "exists" key')
    if not truthy(_get(opts, "exists")) and not truthy(_get(opts, "blank")):
        raise MappingError('@if requires an "exists" key or a "blank" key')
    if "exists" in opts:
        value = resolve(opts["exists"], payload)
        condition = value is not None and value is not UNDEFINED
    else:
        value = resolve(opts["blank"], payload)
        condition = value is not None and value is not UNDEFINED and loose_ne_empty(value)
    if condition and "then" in opts:
        return resolve(opts["then"], payload)
    if not condition and truthy(_get(opts, "else")):
        return resolve(opts["else"], payload)
    return UNDEFINED


def _case(opts: Any, payload: Any) -> Any:
    if not isinstance(opts, dict):
        raise MappingError('@case requires an object with a "operator" key')
    if not truthy(_get(opts, "operator")):
        raise MappingError('@case requires a "operator" key')
    if not truthy(_get(opts, "value")):
        return UNDEFINED
    return change_case(resolve(opts["value"], payload), opts["operator"])


def _replace(opts: Any, payload: Any) -> Any:
    if not isinstance(opts, dict):
        raise MappingError('@replace requires an object with a "pattern" key')
    if not truthy(_get(opts, "pattern")):
        raise MappingError('@replace requires a "pattern" key')
    pattern = opts["pattern"]
    replacement = "" if opts.get("replacement") is None else opts["replacement"]
    pattern2, replacement2 = _get(opts, "pattern2"), _get(opts, "replacement2")
    if truthy(pattern2) and replacement2 in (None, UNDEFINED):
        replacement2 = ""
    ignorecase = False if opts.get("ignorecase") is None else opts["ignorecase"]
    every = True if opts.get("global") is None else opts["global"]
    if not truthy(_get(opts, "value")):
        return UNDEFINED
    value = resolve(opts["value"], payload)
    if isinstance(value, bool) or is_number(value):
        value = to_string(value)
    if not all(
        (
            isinstance(value, str),
            isinstance(pattern, str),
            isinstance(replacement, str),
            isinstance(ignorecase, bool),
            isinstance(every, bool),
        )
    ):
        return ""
    result = replace_literal(value, pattern, replacement, every=every, ignorecase=ignorecase)
    if truthy(pattern2) and isinstance(pattern2, str) and isinstance(replacement2, str):
        result = replace_literal(result, pattern2, replacement2, every=every, ignorecase=ignorecase)
    return result


def _array_path(opts: Any, payload: Any) -> Any:
    if not isinstance(opts, list):
        raise MappingError(f"@arrayPath expected array, got {type_name(opts)}")
    path = opts[0] if opts else UNDEFINED
    shape = opts[1] if len(opts) > 1 else UNDEFINED
    root = (
        get_path(payload, split_mapping_path(path))
        if isinstance(path, str)
        else resolve(path, payload)
    )
    if isinstance(root, dict | list) and isinstance(shape, dict) and shape:
        items = root if isinstance(root, list) else [root]
        return [resolve(shape, item) for item in items]
    return root


def _path(opts: Any, payload: Any) -> Any:
    path = expect_string("@path", resolve(opts, payload))
    return get_path(payload, split_mapping_path(path))


def _template(opts: Any, payload: Any) -> Any:
    return Template(expect_string("@template", resolve(opts, payload))).render(payload)


def _flatten(opts: Any, payload: Any) -> Any:
    if not isinstance(opts, dict):
        raise MappingError('@flatten requires an object with a "separator" key')
    if not truthy(_get(opts, "separator")):
        raise MappingError('@flatten requires a "separator" key')
    separator = resolve(opts["separator"], payload)
    if not isinstance(separator, str):
        raise MappingError("@flatten requires a string separator")
    value = resolve(_get(opts, "value"), payload)
    return flatten(value, separator, truthy(_get(opts, "omitArrays")))


def _json(opts: Any, payload: Any) -> Any:
    if not isinstance(opts, dict):
        raise MappingError('@json requires an object with a "value" key')
    if not truthy(_get(opts, "mode")):
        raise MappingError('@json requires a "mode" key')
    if not truthy(_get(opts, "value")):
        raise MappingError('@json requires a "value" key')
    value = resolve(opts["value"], payload)
    if opts["mode"] == "encode":
        return json_stringify(value)
    if opts["mode"] == "decode":
        return json_decode(value)
    return UNDEFINED


def _merge(opts: Any, payload: Any) -> Any:
    if not isinstance(opts, dict):
        raise MappingError('@merge requires an object with an "objects" key and a "direction" key')
    if not truthy(_get(opts, "direction")):
        raise MappingError('@merge requires a "direction" key')
    direction = resolve(opts["direction"], payload)
    objects = _get(opts, "objects")
    if not truthy(objects):
        raise MappingError('@merge requires a "objects" key')
    if not isinstance(objects, list):
        raise MappingError("@merge: expected opts.array")
    values = [resolve(item, payload) for item in objects]
    if direction == "left":
        values.reverse()
    return assign(values)


def _transform(opts: Any, payload: Any) -> Any:
    if not isinstance(opts, dict):
        raise MappingError('@transform requires an object with an "apply" key and a "mapping" key')
    if not truthy(_get(opts, "mapping")):
        raise MappingError('@transform requires a "mapping" key')
    if not truthy(_get(opts, "apply")):
        raise MappingError('@transform requires a "apply" key')
    if not isinstance(opts["apply"], dict):
        raise MappingError('@transform "apply" key should be an object')
    if not isinstance(payload, Mapping):
        raise MappingError(f"data must be an object, got {type_name(payload)}")
    problems = validation_problems(opts["apply"])
    if problems:
        raise MappingError("invalid mapping: " + "; ".join(problems))
    new_payload = remove_undefined(resolve(opts["apply"], payload))
    return resolve(opts["mapping"], new_payload)


def _exclude_when_null(opts: Any, payload: Any) -> Any:
    value = resolve(opts, payload)
    return UNDEFINED if value is None else clean_nulls(value)


def _liquid(opts: Any, payload: Any) -> Any:
    return compile_liquid(opts)(payload)


_DIRECTIVES: dict[str, Callable[[Any, Any], Any]] = {
    "@if": _if,
    "@case": _case,
    "@replace": _replace,
    "@arrayPath": _array_path,
    "@path": _path,
    "@template": _template,
    "@literal": resolve,
    "@flatten": _flatten,
    "@json": _json,
    "@merge": _merge,
    "@transform": _transform,
    "@excludeWhenNull": _exclude_when_null,
    "@liquid": _liquid,
}
