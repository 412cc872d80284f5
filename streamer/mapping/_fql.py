"""FQL, Segment's trigger language: tokenizer and parser into a small condition tree.

The grammar is the subset Segment's ``@segment/destination-subscriptions`` understands::

    trigger    := term (("and" | "or") term)*
    term       := "(" term (("and" | "or") term)* ")" | ["!"] function | comparison
    comparison := field ("=" | "!=" | "<" | "<=" | ">" | ">=") value
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

Segment's parser accepts some malformed text silently (it drops unknown fields, ignores a
``!`` before a comparison, keeps single quotes as part of the value, turns bare words into
strings); a trigger like that selects events nobody intended, so it is rejected here with a
:class:`MappingError` naming the column and the reason. Parenthesised groups cannot nest, as
in Segment (whose parser fails on them).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from .._exceptions import MappingError
from ._js import number_to_string
from ._paths import split_fql_path

__all__ = ["Comparison", "Group", "Node", "parse_fql"]

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
_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_\\")
_IDENT_PART = _IDENT_START | frozenset("0123456789-")
_DIGITS = frozenset("0123456789")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # ident, string, number, op, not, conj, lparen, rparen, comma, end
    text: str
    position: int


class _Lexer:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens: list[_Token] = []

    def fail(self, why: str, position: int) -> MappingError:
        return _error(self.source, why, position)

    def run(self) -> list[_Token]:
        source, i, n = self.source, 0, len(self.source)
        while i < n:
            char = source[i]
            if char.isspace():
                i += 1
            elif char in "(),":
                kind = {"(": "lparen", ")": "rparen", ",": "comma"}[char]
                self.tokens.append(_Token(kind, char, i))
                i += 1
            elif char in "=<>!":
                i = self._operator(i)
            elif char in "\"'":
                i = self._string(i)
            elif char in _DIGITS or (
                char in "+-." and i + 1 < n and source[i + 1] in _DIGITS | {"."}
            ):
                i = self._number(i)
            elif char in _IDENT_START:
                i = self._ident(i)
            else:
                raise self.fail(f"unexpected character {char!r}", i)
        self.tokens.append(_Token("end", "", n))
        return self.tokens

    def _operator(self, i: int) -> int:
        two = self.source[i : i + 2]
        if two == "==":
            raise self.fail("'==' is not an FQL operator, use '='", i)
        if two in ("!=", "<=", ">="):
            self.tokens.append(_Token("op", two, i))
            return i + 2
        char = self.source[i]
        self.tokens.append(_Token("not" if char == "!" else "op", char, i))
        return i + 1

    def _string(self, i: int) -> int:
        quote = self.source[i]
        if quote == "'":
            raise self.fail(
                "single-quoted strings are not supported (Segment keeps the quotes as part of "
                "the value); use double quotes",
                i,
            )
        end = self.source.find(quote, i + 1)
        if end < 0:
            raise self.fail("unterminated string", i)
        self.tokens.append(_Token("string", self.source[i + 1 : end], i))
        return end + 1

    def _number(self, i: int) -> int:
        source, j = self.source, i
        if source[j] in "+-":
            j += 1
        start_digits = j
        while j < len(source) and source[j] in _DIGITS:
            j += 1
        if j < len(source) and source[j] == ".":
            j += 1
            fraction = j
            while j < len(source) and source[j] in _DIGITS:
                j += 1
            if j == fraction:
                raise self.fail("a decimal point must be followed by digits", i)
        if j == start_digits:
            raise self.fail("malformed number", i)
        if j < len(source) and (source[j] in _IDENT_PART or source[j] in ".\"'"):
            raise self.fail("malformed number", i)
        self.tokens.append(_Token("number", source[i:j], i))
        return j

    def _ident(self, i: int) -> int:
        source, j, parts, segment = self.source, i, [], []
        while True:
            while j < len(source) and source[j] in _IDENT_PART:
                if source[j] == "\\":
                    if j + 1 >= len(source):
                        raise self.fail("expected a character after '\\'", j)
                    segment.append(source[j + 1])
                    j += 2
                else:
                    segment.append(source[j])
                    j += 1
            parts.append("".join(segment))
            if j < len(source) and source[j] == ".":
                if j + 1 >= len(source) or source[j + 1] not in _IDENT_START:
                    # Segment's lexer reads ".0" as a number: it cannot address array items.
                    raise self.fail("expected a field name (starting with a letter) after '.'", j)
                segment = []
                j += 1
                continue
            break
        name = ".".join(parts)
        kind = "conj" if name in ("and", "or") else "ident"
        self.tokens.append(_Token(kind, name, i))
        return j


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
        while True:
            node, truncated = self.term(cursor, in_group=in_group)
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
        return nodes[0] if len(nodes) == 1 else Group(operator, tuple(nodes))

    def term(self, cursor: _Cursor, *, in_group: bool) -> tuple[Node, int]:
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

    def comparison(self, cursor: _Cursor) -> Comparison:
        root, path = self.field(cursor)
        operator_token = cursor.current
        if operator_token.kind != "op":
            raise self.fail(
                f"expected an operator (=, !=, <, <=, >, >=), found {_shown(operator_token)}",
                operator_token,
            )
        cursor.advance()
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
        return _segment_operator(root, path, operator_token.text, value, value_token.kind)

    def function(self, cursor: _Cursor, *, negate: bool, in_group: bool) -> Comparison:
        name_token = cursor.advance()
        self.expect(cursor, "lparen", f"'(' after {name_token.text}")
        field_token = cursor.current
        root, path = self.field(cursor)
        if root == "type":
            raise self.fail(f"{name_token.text}() does not accept the field 'type'", field_token)
        self.expect(cursor, "comma", "','")
        value_token = self.expect(cursor, "string", "a double-quoted string")
        closing = cursor.current
        last_of_group = in_group and cursor.index == len(cursor.tokens) - 1
        if closing.kind == "rparen" or (closing.kind == "end" and last_of_group):
            cursor.advance()
        else:
            raise self.fail(f"expected ')', found {_shown(closing)}", closing)
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


def _error(source: str, why: str, position: int) -> MappingError:
    return MappingError(f"invalid trigger {source!r}: {why} (at column {position + 1})")


def parse_fql(source: str) -> Group:
    """Parse a trigger into a tree; raises :class:`MappingError` naming the column and reason."""
    if not isinstance(source, str):
        raise MappingError(f"a trigger must be a string, got {type(source).__name__}")
    return _Parser(source).parse(_Lexer(source).run())
