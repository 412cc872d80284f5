"""Reading YAML as YAML 1.2 (core schema): a scalar is what it looks like.

PyYAML implements YAML 1.1, where ``yes``/``no``/``on``/``off`` are booleans, ``012`` is octal,
``1:30`` is a sexagesimal 90 and ``2024-01-01`` a date. In a configuration those surprises undo
what the user wrote (a mapping literal ``"on"`` silently becomes ``true``; a date breaks the
JSON the mapping must be). :class:`CoreLoader` is PyYAML's safe loader with the YAML 1.2 core
schema's implicit types only:

- null: ``null``, ``Null``, ``NULL``, ``~`` and the empty scalar
- bool: ``true``/``false`` (also capitalised or upper case)
- int: decimal (``012`` is 12), ``0o17`` octal, ``0x1F`` hexadecimal
- float: ``1.5``, ``1e3``, ``.inf``, ``-.inf``, ``.nan``
- everything else plain is a string (dates, ``yes``, ``1:30``, ``1_000``)

Merge keys (``<<: *anchor``) still work, as in ruamel.yaml's 1.2 mode. A key given twice in one
mapping is an error (PyYAML keeps the last one silently). Explicit tags (``!!binary``,
``!!timestamp``, ``!!set``) still construct their types; the configuration layer refuses what
is not JSON (see ``_json.py``).
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode

__all__ = ["CoreLoader", "load_yaml", "load_yaml_scalar"]

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"

# The YAML 1.2.2 core schema, section 10.3.2, plus the merge key.
_RESOLVERS: list[tuple[str, str, list[str]]] = [
    (_NULL, r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    (_INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        _FLOAT,
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
    (_MERGE, r"^<<$", ["<"]),
]


class CoreLoader(yaml.SafeLoader):
    """PyYAML's ``SafeLoader`` with YAML 1.2 core-schema scalars and no duplicate keys."""

    yaml_implicit_resolvers: dict[Any, Any] = {}

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:
                continue  # an unhashable key: the base class says so, with its position
            if first is not key_node:
                raise ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"found the key {key!r} a second time (first {first.start_mark.line + 1}"
                    f":{first.start_mark.column + 1})", key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)

    def construct_core_bool(self, node: ScalarNode) -> bool:
        value = self.construct_scalar(node).lower()
        if value not in ("true", "false"):
            raise ConstructorError(None, None, f"not a boolean: {value!r}", node.start_mark)
        return value == "true"

    def construct_core_int(self, node: ScalarNode) -> int:
        text = self.construct_scalar(node)
        try:
            if text.startswith("0o"):
                return int(text[2:], 8)
            if text.startswith("0x"):
                return int(text[2:], 16)
            return int(text, 10)
        except ValueError:
            raise ConstructorError(
                None, None, f"not an integer: {text!r}", node.start_mark
            ) from None

    def construct_core_float(self, node: ScalarNode) -> float:
        text = self.construct_scalar(node).lower()
        if text.endswith(".inf"):
            return -math.inf if text.startswith("-") else math.inf
        if text == ".nan":
            return math.nan
        try:
            return float(text)
        except ValueError:
            raise ConstructorError(None, None, f"not a number: {text!r}", node.start_mark) from None


for _tag, _pattern, _first in _RESOLVERS:
    CoreLoader.add_implicit_resolver(_tag, re.compile(_pattern), _first)
CoreLoader.add_constructor(_BOOL, CoreLoader.construct_core_bool)
CoreLoader.add_constructor(_INT, CoreLoader.construct_core_int)
CoreLoader.add_constructor(_FLOAT, CoreLoader.construct_core_float)


def load_yaml(text: str) -> Any:
    """Parse one YAML document with :class:`CoreLoader` (raises ``yaml.YAMLError``)."""
    return yaml.load(text, Loader=CoreLoader)  # a SafeLoader: no arbitrary objects


def load_yaml_scalar(text: str) -> Any:
    """A ``STREAMER__`` override's value: YAML 1.2 like the file, the text itself if not YAML."""
    if not text:
        return ""
    try:
        return load_yaml(text)
    except yaml.YAMLError:
        return text
