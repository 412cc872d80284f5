"""FQL, Segment's trigger language: tokenizer and parser into a small condition tree.

The grammar is the subset Segment's ``@segment/destination-subscriptions`` understands::

    trigger    := term (("and" | "or") term)*
    term       := "(" term (("and" | "or") term)* ")" | ["!"] function | comparison
    comparison := field (("=" | "!=" | "<" | "<=" | ">" | ">=") | word) value
    function   := ("contains" | "match") "(" field "," string ")"
    field      := type | event | name | userId | (properties | traits | context) "." path
    value      := "double-quoted string" | number | true | false | null

Two of Segment's rules are surprising and kept on purpose, because triggers written for
Segment must select the same events here:

- one group has one operator: the *last* ``and``/``or`` written at that level applies to
  every term of the group (``a or b and c`` means ``a and b and c``);
- each comparison is translated into one of Segment's operator names with its own rules
  (``properties.x = 5`` only matches numbers, ``event = null`` compares with the string
  ``"null"``, ...); see :mod:`._trigger` for the evaluation of each.

Segment's parser takes the token after a field as its operator, whatever it is, so a word
there is an *infix operator*: ``traits.email contains "x"``, ``event starts_with "Order"``,
``name not_ends_with "ed"``, ``properties.total number_equals 3`` mean what the function forms
and comparisons mean (the operator names are the ones Segment's parser itself produces, see
:data:`INFIX_OPERATORS`). A word Segment does not know as an operator (``traits.x frobnicates
"y"``) parses and never matches; so it is here, with a warning (:func:`parse_fql_warnings`)
that the router reports at start-up. Segment also silently ignores a condition on a field it
does not know (``messageId ends_with "4"``, ``contains(type, "x")``: its functions take no
``type``): that condition is dropped here too, with a warning, and a trigger (or a
parenthesised group) left with no condition is refused, as Segment fails on it; an unknown
field followed by ``contains`` or ``match`` is refused too (Segment reads the rest as a broken
function call).

Segment's parser accepts some other malformed text silently (it ignores a ``!`` before a
comparison, keeps single quotes as part of the value, turns bare words into strings, and takes
whatever token follows an operator as its value: ``type = `` compares with ``"eos"``, the end of
its text, and ``event = and ...`` with ``"and"``); a trigger
like that selects events nobody intended, so it is rejected here with a :class:`MappingError`
naming the column and the reason. Parenthesised groups cannot nest, as in Segment (whose parser
fails on them).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from .._exceptions import MappingError
from ._fql_lexer import Token as _Token
from ._fql_lexer import error as _error
from ._fql_lexer import tokenize
from ._js import number_to_string
from ._paths import split_fql_path

__all__ = ["INFIX_OPERATORS", "NEVER", "Comparison", "Group", "Node", "parse_fql",
           "parse_fql_warnings"]

Scalar = str | float | bool | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """One condition, in Segment's terms: ``root`` (and ``path`` below it), operator, value."""

    root: str
    path: tuple[str, ...]
    operator: str
    value: Scalar


@dataclass(frozen=True, slots=True)
class Group:
    operator: Literal["and", "or"]
    children: tuple[Node, ...]


Node = Comparison | Group

_TOP_FIELDS = frozenset({"type", "event", "name", "userId"})
_NESTED_ROOTS = frozenset({"properties", "traits", "context"})
_FUNCTIONS = frozenset({"contains", "match"})
_COMPARATORS = frozenset({"=", "!=", "<", "<=", ">", ">="})
_STRING_OPERATORS = frozenset({
    "contains", "not_contains", "starts_with", "not_starts_with", "ends_with", "not_ends_with",
})
_NUMBER_OPERATORS = frozenset({"number_equals", "number_not_equals"})
_VALUELESS_OPERATORS = frozenset({"exists", "not_exists", "is_true", "is_false"})
INFIX_OPERATORS = _STRING_OPERATORS | _NUMBER_OPERATORS | _VALUELESS_OPERATORS
"""The words Segment evaluates as operators when written after a field (``field word value``):
the names its parser gives the comparisons and functions."""
NEVER = "never"
"""The operator of a condition Segment parses but cannot evaluate (an unknown infix word)."""


class _Cursor:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    @property
    def exhausted(self) -> bool:
        return self.index >= len(self.tokens)

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token


class _Parser:
    """Segment's parse loop, token for token, with a check on every token it would trust.

    Segment reads a parenthesised group as the tokens up to the *first* ``)``. When the group
    holds a function call, that first ``)`` is the call's own: the group ends there, the rest
    of the parenthesised text joins the enclosing level (and so its last ``and``/``or``), and
    the real closing ``)`` is skipped there. This is reproduced: such a group leaves one
    pending ``)`` that the enclosing level accepts.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.warnings: list[str] = []
        self.ignored: list[str] = []
        """The fields of the conditions dropped so far (Segment ignores them)."""

    def warn(self, why: str, token: _Token) -> None:
        self.warnings.append(f"{why} (at column {token.position + 1})")

    def fail(self, why: str, token: _Token) -> MappingError:
        return _error(self.source, why, token.position)

    def expect(self, cursor: _Cursor, kind: str, what: str) -> _Token:
        token = cursor.current
        if token.kind != kind:
            raise self.fail(f"expected {what}, found {_shown(token)}", token)
        return cursor.advance()

    def parse(self, tokens: list[_Token]) -> Group:
        if tokens[0].kind == "end":
            raise self.fail("the trigger is empty", tokens[0])
        node = self.sequence(_Cursor(tokens), in_group=False)
        return node if isinstance(node, Group) else Group("and", (node,))

    def sequence(self, cursor: _Cursor, *, in_group: bool) -> Node:
        nodes: list[Node] = []
        operator: Literal["and", "or"] = "and"
        pending_close = 0
        start, ignored_before = cursor.current, len(self.ignored)
        while True:
            node, truncated = self.term(cursor, in_group=in_group)
            if node is not None:
                nodes.append(node)
            pending_close += truncated
            if cursor.exhausted:
                break  # a function call took the group's end as its ')'
            while cursor.current.kind == "rparen" and pending_close:
                pending_close -= 1
                cursor.advance()
            token = cursor.current
            if token.kind == "conj":
                operator = "and" if cursor.advance().text == "and" else "or"
                continue
            if token.kind != "end":
                raise self.fail(f"expected 'and', 'or' or the end, found {_shown(token)}", token)
            break
        if pending_close:
            raise self.fail("missing ')'", cursor.tokens[-1])
        if not nodes:
            # Segment's parser ends with no condition and fails ("Cannot read properties of
            # undefined"): every condition here was on a field it ignores.
            unknown = ", ".join(repr(name) for name in self.ignored[ignored_before:])
            raise self.fail(
                f"no condition on a field Segment knows (unknown field {unknown}; use type, "
                "event, name, userId, properties.*, traits.* or context.*)",
                start,
            )
        return nodes[0] if len(nodes) == 1 else Group(operator, tuple(nodes))

    def term(self, cursor: _Cursor, *, in_group: bool) -> tuple[Node | None, int]:
        token = cursor.current
        if token.kind == "lparen":
            if in_group:
                raise self.fail("nested parentheses are not supported by Segment's FQL", token)
            return self.group(cursor)
        if token.kind == "not":
            cursor.advance()
            following = cursor.current
            if following.kind != "ident" or following.text not in _FUNCTIONS:
                raise self.fail("'!' is only allowed before contains() or match()", token)
            return self.function(cursor, negate=True, in_group=in_group), 0
        if token.kind == "ident" and token.text in _FUNCTIONS:
            return self.function(cursor, negate=False, in_group=in_group), 0
        if token.kind == "ident":
            return self.comparison(cursor), 0
        raise self.fail(f"expected a condition, found {_shown(token)}", token)

    def group(self, cursor: _Cursor) -> tuple[Node, int]:
        opening = cursor.advance()
        inner: list[_Token] = []
        while cursor.current.kind not in ("rparen", "end"):
            inner.append(cursor.advance())
        closing = cursor.current
        if closing.kind == "end":
            raise self.fail("missing ')'", opening)
        cursor.advance()
        if not inner:
            raise self.fail("empty parentheses", opening)
        calls = 0
        for before, token in pairwise(inner):
            if token.kind == "lparen":
                if before.kind != "ident" or before.text not in _FUNCTIONS:
                    raise self.fail("nested parentheses are not supported by Segment's FQL", token)
                calls += 1
        if inner[0].kind == "lparen":
            raise self.fail("nested parentheses are not supported by Segment's FQL", inner[0])
        inner.append(_Token("end", "", closing.position))
        return self.sequence(_Cursor(inner), in_group=True), min(calls, 1)

    def field(self, cursor: _Cursor) -> tuple[str, tuple[str, ...]]:
        token = self.expect(cursor, "ident", "a field name")
        root, _, rest = token.text.partition(".")
        if root in _TOP_FIELDS and not rest:
            return root, ()
        if root in _NESTED_ROOTS and rest:
            return root, split_fql_path(rest)
        if root in _NESTED_ROOTS:
            raise self.fail(f"{root} needs a sub-field, e.g. {root}.plan", token)
        raise self.fail(
            f"unknown field {token.text!r}: use type, event, name, userId, properties.*, "
            "traits.* or context.*",
            token,
        )

    def comparison(self, cursor: _Cursor) -> Comparison | None:
        field_token = cursor.current
        root = field_token.text.partition(".")[0]
        if root not in _TOP_FIELDS and root not in _NESTED_ROOTS:
            self.ignore_condition(cursor)
            return None
        root, path = self.field(cursor)
        operator_token = self.operator(cursor)
        value_token, value = self.value(cursor, operator_token)
        if operator_token.kind == "op":
            return _segment_operator(root, path, operator_token.text, value, value_token.kind)
        return self.infix(root, path, operator_token, value)

    def operator(self, cursor: _Cursor) -> _Token:
        """A comparison sign, or a word: Segment takes the token after a field as its operator."""
        token = cursor.current
        if token.kind == "op" or (
            token.kind == "ident"
            and token.text not in _LITERALS
            and "." not in token.text
            and token.text.partition(".")[0] not in _TOP_FIELDS | _NESTED_ROOTS
        ):
            return cursor.advance()
        raise self.fail(
            f"expected an operator (=, !=, <, <=, >, >=, or a word such as contains), found "
            f"{_shown(token)}",
            token,
        )

    def value(self, cursor: _Cursor, operator_token: _Token) -> tuple[_Token, Scalar]:
        value_token = cursor.current
        value: Scalar
        if value_token.kind == "string":
            value = value_token.text
        elif value_token.kind == "number":
            value = float(value_token.text)
        elif value_token.kind == "ident" and value_token.text in _LITERALS:
            value = _LITERALS[value_token.text]
        else:
            raise self.fail(
                f"expected a value after {operator_token.text!r} (a double-quoted string, a "
                f"number, true, false or null), found {_shown(value_token)}",
                value_token,
            )
        cursor.advance()
        return value_token, value

    def infix(
        self, root: str, path: tuple[str, ...], operator_token: _Token, value: Scalar
    ) -> Comparison:
        """``field word value``, translated as Segment's parser translates it."""
        operator = operator_token.text
        if operator not in INFIX_OPERATORS:
            self.warn(
                f"{operator!r} is not an operator Segment knows: the condition never matches",
                operator_token,
            )
            return Comparison(root, path, NEVER, None)
        if operator in _VALUELESS_OPERATORS:
            return Comparison(root, path, operator, None)
        if operator in _STRING_OPERATORS or root not in _NESTED_ROOTS:
            # The string operators compare with the value's string form; so does every
            # operator on type, event, name and userId.
            return Comparison(root, path, operator, _js_string(value))
        return Comparison(root, path, operator, "null" if value is None else value)

    def ignore_condition(self, cursor: _Cursor) -> None:
        """A condition on a field Segment does not know: it skips its tokens, so it is dropped."""
        field_token = cursor.advance()
        if field_token.text in _FUNCTIONS | {"and", "or"}:  # pragma: no cover - lexed otherwise
            raise self.fail(f"expected a field, found {_shown(field_token)}", field_token)
        following = cursor.current
        if following.kind == "ident" and following.text in _FUNCTIONS:
            raise self.fail(
                f"unknown field {field_token.text!r} before {following.text}: Segment reads "
                f"{following.text} as a function call here and fails; use type, event, name, "
                "userId, properties.*, traits.* or context.*",
                following,
            )
        if following.kind not in ("op", "ident"):
            raise self.fail(
                f"unknown field {field_token.text!r}: use type, event, name, userId, "
                "properties.*, traits.* or context.*",
                field_token,
            )
        operator_token = self.operator(cursor)
        self.value(cursor, operator_token)
        self.ignored.append(field_token.text)
        self.warn(
            f"unknown field {field_token.text!r}: Segment ignores this condition (use type, "
            "event, name, userId, properties.*, traits.* or context.*)",
            field_token,
        )

    def function(
        self, cursor: _Cursor, *, negate: bool, in_group: bool
    ) -> Comparison | None:
        name_token = cursor.advance()
        self.expect(cursor, "lparen", f"'(' after {name_token.text}")
        field_token = cursor.current
        root = field_token.text.partition(".")[0]
        # Segment's functions know event, name, userId and the nested roots; on another field
        # (type included) the call parses and Segment keeps no condition: dropped, with a warning.
        ignored = field_token.kind == "ident" and (
            root == "type" or (root not in _TOP_FIELDS and root not in _NESTED_ROOTS)
        )
        path: tuple[str, ...] = ()
        if ignored:
            cursor.advance()
        else:
            root, path = self.field(cursor)
        self.expect(cursor, "comma", "','")
        value_token = self.expect(cursor, "string", "a double-quoted string")
        closing = cursor.current
        last_of_group = in_group and cursor.index == len(cursor.tokens) - 1
        if closing.kind == "rparen" or (closing.kind == "end" and last_of_group):
            cursor.advance()
        else:
            raise self.fail(f"expected ')', found {_shown(closing)}", closing)
        if ignored:
            self.ignored.append(field_token.text)
            self.warn(
                f"{name_token.text}() on the field {field_token.text!r}: Segment ignores this "
                "condition (use event, name, userId, properties.*, traits.* or context.*)",
                field_token,
            )
            return None
        text = value_token.text
        if name_token.text == "contains":
            return Comparison(root, path, "not_contains" if negate else "contains", text)
        if text.endswith("*") and "*" not in text[:-1]:
            operator, text = "starts_with", text[:-1]
        elif text.startswith("*") and "*" not in text[1:]:
            operator, text = "ends_with", text[1:]
        else:
            raise self.fail("match() needs one '*', at the start or the end", value_token)
        return Comparison(root, path, ("not_" if negate else "") + operator, text)


_LITERALS: dict[str, Scalar] = {"true": True, "false": False, "null": None}


def _shown(token: _Token) -> str:
    return repr(token.text) if token.kind != "end" else "the end of the trigger"


def _segment_operator(
    root: str, path: tuple[str, ...], operator: str, value: Scalar, kind: str
) -> Comparison:
    """Translate ``field op value`` the way Segment's parser does, field by field."""
    nullable = root in _NESTED_ROOTS or root in ("name", "userId")
    if nullable and value is None and operator in ("=", "!="):
        return Comparison(root, path, "not_exists" if operator == "=" else "exists", None)
    boolean = root in _NESTED_ROOTS or root == "userId"
    if boolean and isinstance(value, bool) and operator == "=":
        return Comparison(root, path, "is_true" if value else "is_false", None)
    if root in _NESTED_ROOTS:
        if kind == "number" and operator in ("=", "!="):
            named = "number_equals" if operator == "=" else "number_not_equals"
            return Comparison(root, path, named, value)
        return Comparison(root, path, operator, "null" if value is None else value)
    # type, event, name and userId compare with the value's string form, whatever it is.
    return Comparison(root, path, operator, _js_string(value))


def _js_string(value: Scalar) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return number_to_string(value)
    return value


def parse_fql(source: str) -> Group:
    """Parse a trigger into a tree; raises :class:`MappingError` naming the column and reason."""
    return _parse(source)[0]


def parse_fql_warnings(source: str) -> tuple[str, ...]:
    """What the trigger says that Segment accepts but that never matches or is ignored.

    Raises :class:`MappingError` as :func:`parse_fql` does.
    """
    return _parse(source)[1]


def _parse(source: str) -> tuple[Group, tuple[str, ...]]:
    if not isinstance(source, str):
        raise MappingError(f"a trigger must be a string, got {type(source).__name__}")
    parser = _Parser(source)
    tree = parser.parse(tokenize(source))
    return tree, tuple(parser.warnings)
