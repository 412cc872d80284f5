"""FQL's tokens: the lexer of :mod:`._fql`, one pass over the trigger text at start-up.

A token is a kind (``ident``, ``string``, ``number``, ``op``, ``not``, ``conj``, ``lparen``,
``rparen``, ``comma``, ``end``), its text and its position, so that every error can name its
column. Field paths are one ``ident`` token (``traits.address.city``, with ``\\`` escapes).
"""

from __future__ import annotations

from dataclasses import dataclass

from .._exceptions import MappingError

__all__ = ["Token", "error", "tokenize"]

_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_\\")
_IDENT_PART = _IDENT_START | frozenset("0123456789-")
_DIGITS = frozenset("0123456789")


def tokenize(source: str) -> list[Token]:
    """The tokens of ``source``, ending with an ``end`` token; raises :class:`MappingError`."""
    return _Lexer(source).run()


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # ident, string, number, op, not, conj, lparen, rparen, comma, end
    text: str
    position: int


class _Lexer:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens: list[Token] = []

    def fail(self, why: str, position: int) -> MappingError:
        return error(self.source, why, position)

    def run(self) -> list[Token]:
        source, i, n = self.source, 0, len(self.source)
        while i < n:
            char = source[i]
            if char.isspace():
                i += 1
            elif char in "(),":
                kind = {"(": "lparen", ")": "rparen", ",": "comma"}[char]
                self.tokens.append(Token(kind, char, i))
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
        self.tokens.append(Token("end", "", n))
        return self.tokens

    def _operator(self, i: int) -> int:
        two = self.source[i : i + 2]
        if two == "==":
            raise self.fail("'==' is not an FQL operator, use '='", i)
        if two in ("!=", "<=", ">="):
            self.tokens.append(Token("op", two, i))
            return i + 2
        char = self.source[i]
        self.tokens.append(Token("not" if char == "!" else "op", char, i))
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
        self.tokens.append(Token("string", self.source[i + 1 : end], i))
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
        self.tokens.append(Token("number", source[i:j], i))
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
        self.tokens.append(Token(kind, name, i))
        return j



def error(source: str, why: str, position: int) -> MappingError:
    return MappingError(f"invalid trigger {source!r}: {why} (at column {position + 1})")
