"""``@liquid``: python-liquid configured to behave like Segment's liquidjs setup.

Segment evaluates ``@liquid`` with liquidjs and a locked-down engine: the tags ``case``,
``for``, ``include``, ``layout``, ``render`` and ``tablerow`` and a list of array filters are
disabled, templates are limited to 1000 characters, an empty template renders ``''``. Here
the same template runs on python-liquid (the maintained ``liquid`` package) with:

- those tags and filters registered as "disabled" (the error names them and where they are);
- output stringified the liquidjs way (``true``, ``2`` for ``2.0``, ``[object Object]``,
  arrays concatenated) by a replacement output node;
- comparison operators in ``if``/``unless``/``elsif`` rewritten after parsing to JavaScript's
  rules (``"150" > 100`` is true; a string never equals a number);
- the filters of :mod:`._liquid_filters`.

Lifecycle: :func:`compile_liquid` parses once, when the mapping is compiled. A template that
does not parse does not fail the mapping (Segment only fails when the directive runs): the
returned renderer raises :class:`MappingError` each time it is called instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TextIO

from liquid import Environment
from liquid.ast import Node
from liquid.builtin.expressions import BooleanExpression
from liquid.builtin.expressions.logical import (
    ContainsExpression,
    EqExpression,
    GeExpression,
    GtExpression,
    LeExpression,
    LogicalAndExpression,
    LogicalNotExpression,
    LogicalOrExpression,
    LtExpression,
    NeExpression,
)
from liquid.builtin.expressions.primitive import Blank, Empty, Nil
from liquid.builtin.output import Output, OutputNode
from liquid.context import RenderContext
from liquid.exceptions import LiquidError, LiquidSyntaxError
from liquid.expression import Expression
from liquid.stream import TokenStream
from liquid.tag import Tag
from liquid.token import Token

from .._exceptions import MappingError
from ._js import Undefined, to_number, to_string, utf16_len
from ._liquid_filters import JS_FILTERS
from ._liquid_values import liquid_string, plain

__all__ = ["MAX_TEMPLATE_LENGTH", "compile_liquid"]

MAX_TEMPLATE_LENGTH = 1000
DISABLED_TAGS = ("case", "for", "include", "layout", "render", "tablerow")
DISABLED_FILTERS = (
    "array_to_sentence_string",
    "concat",
    "find",
    "find_exp",
    "find_index",
    "find_index_exp",
    "group_by",
    "group_by_exp",
    "has",
    "has_exp",
    "map",
    "newline_to_br",
    "reject",
    "reject_exp",
    "reverse",
    "sort",
    "sort_natural",
    "uniq",
    "where_exp",
    "type",
)

Renderer = Callable[[Any], str]


def _position(token: Token) -> str:
    """liquidjs's ``line:L, col:C`` (1-based) of a token."""
    before = token.source[: max(token.start_index, 0)]
    start = before.rfind("{%")
    if start >= 0 and "%}" not in before[start:]:
        before = before[:start]
    line = before.count("\n") + 1
    return f"line:{line}, col:{len(before) - (before.rfind(chr(10)) + 1) + 1}"


def _disabled_tag(tag_name: str) -> type[Tag]:
    class DisabledTag(Tag):
        name = tag_name
        block = False

        def parse(self, stream: TokenStream) -> Node:
            message = f'tag "{tag_name}" is disabled, {_position(stream.current)}'
            raise LiquidSyntaxError(message, token=stream.current)

    return DisabledTag


def _disabled_filter(filter_name: str) -> Callable[..., Any]:
    def disabled(*_args: Any, **_kwargs: Any) -> Any:
        raise MappingError(f'filter "{filter_name}" is disabled')

    return disabled


class _JsOutputNode(OutputNode):
    __slots__ = ()

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        return buffer.write(liquid_string(self.expression.evaluate(context)))


class _JsOutput(Output):
    node_class = _JsOutputNode


# ---------------------------------------------------------------- JavaScript comparisons


def _primitive(value: Any) -> Any:
    value = plain(value)
    if isinstance(value, list | tuple | Mapping):
        return to_string(value)
    return value


def _less(left: Any, right: Any) -> bool:
    """JavaScript ``left < right`` (strings compare as strings, anything else as numbers)."""
    left, right = _primitive(left), _primitive(right)
    if isinstance(left, str) and isinstance(right, str):
        return left < right
    return to_number(left) < to_number(right)


def _equal(left: Any, right: Any) -> bool:
    """liquidjs ``equals``: strict equality, arrays item by item."""
    left, right = plain(left), plain(right)
    if isinstance(left, list | tuple):
        return (
            isinstance(right, list | tuple)
            and len(left) == len(right)
            and all(_equal(a, b) for a, b in zip(left, right, strict=True))
        )
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    if left is None or isinstance(left, Undefined):
        return left is right
    return left is right


def _contains(left: Any, right: Any) -> bool:
    left = plain(left)
    if isinstance(left, list | tuple):
        return any(_equal(item, right) for item in left)
    if isinstance(left, str):
        return liquid_string(right) in left if plain(right) is not None else "null" in left
    return False


class _JsComparison(Expression):
    __slots__ = ("left", "operator", "original", "right")

    def __init__(self, original: Expression, operator: str, left: Expression, right: Expression):
        super().__init__(original.token)
        self.original, self.operator, self.left, self.right = original, operator, left, right

    def __str__(self) -> str:
        return str(self.original)

    def evaluate(self, context: RenderContext) -> object:
        if _is_drop(self.left) or _is_drop(self.right):
            return self.original.evaluate(context)  # nil / empty / blank keep Liquid's rules
        left, right = self.left.evaluate(context), self.right.evaluate(context)
        operator = self.operator
        if operator == "==":
            return _equal(left, right)
        if operator == "!=":
            return not _equal(left, right)
        if operator == "<":
            return _less(left, right)
        if operator == ">":
            return _less(right, left)
        if operator == "<=":
            return not _less(right, left) and _comparable(left, right)
        if operator == ">=":
            return not _less(left, right) and _comparable(left, right)
        return _contains(left, right)

    async def evaluate_async(self, context: RenderContext) -> object:
        return self.evaluate(context)

    def children(self) -> list[Expression]:
        return [self.left, self.right]


def _comparable(left: Any, right: Any) -> bool:
    """``<=``/``>=`` are false when either side is NaN once converted, as in JavaScript."""
    left, right = _primitive(left), _primitive(right)
    if isinstance(left, str) and isinstance(right, str):
        return True
    return to_number(left) == to_number(left) and to_number(right) == to_number(right)


def _is_drop(expression: Expression) -> bool:
    return isinstance(expression, Nil | Empty | Blank)


_OPERATORS: dict[type[Expression], str] = {
    EqExpression: "==",
    NeExpression: "!=",
    LtExpression: "<",
    GtExpression: ">",
    LeExpression: "<=",
    GeExpression: ">=",
    ContainsExpression: "contains",
}


def _javascript(expression: Expression) -> Expression:
    operator = _OPERATORS.get(type(expression))
    if operator is not None:
        left, right = expression.left, expression.right  # type: ignore[attr-defined]
        return _JsComparison(expression, operator, left, right)
    if isinstance(expression, LogicalAndExpression | LogicalOrExpression):
        expression.left = _javascript(expression.left)
        expression.right = _javascript(expression.right)
    elif isinstance(expression, LogicalNotExpression):
        expression.right = _javascript(expression.right)
    return expression


def _rewrite_conditions(nodes: list[Node], context: RenderContext) -> None:
    for node in nodes:
        for expression in node.expressions():
            if isinstance(expression, BooleanExpression):
                expression.expression = _javascript(expression.expression)
        _rewrite_conditions(list(node.children(context, include_partials=False)), context)


# ---------------------------------------------------------------- environment


def _environment() -> Environment:
    env = Environment(strict_filters=False)
    env.add_tag(_JsOutput)
    for tag in DISABLED_TAGS:
        env.add_tag(_disabled_tag(tag))
    for name, function in JS_FILTERS.items():
        env.add_filter(name, function)
    for name in DISABLED_FILTERS:
        env.add_filter(name, _disabled_filter(name))
    return env


_ENV = _environment()


def _failing(message: str) -> Renderer:
    def fail(_payload: Any) -> str:
        raise MappingError(message)

    return fail


def compile_liquid(source: Any) -> Renderer:
    """Parse a ``@liquid`` template once; the renderer takes the payload and returns a string."""
    if not isinstance(source, str):
        return _failing("@liquid: liquid template value must be a string")
    if source == "":
        return lambda _payload: ""
    if utf16_len(source) > MAX_TEMPLATE_LENGTH:
        return _failing(
            f"@liquid: liquid template values are limited to {MAX_TEMPLATE_LENGTH} characters"
        )
    try:
        template = _ENV.from_string(source)
        _rewrite_conditions(template.nodes, RenderContext(template))
    except LiquidError as error:
        return _failing(f"@liquid: {_message(error)}")

    def render(payload: Any) -> str:
        data = payload if isinstance(payload, Mapping) else {}
        try:
            return template.render(data)  # positional: event keys may be "self"
        except Exception as error:  # a template is user input: any failure fails this event only
            raise MappingError(f"@liquid: {_message(error)}") from error

    return render


def _message(error: BaseException) -> str:
    if isinstance(error, LiquidError):
        return str(error.args[0]) if error.args else type(error).__name__
    return str(error)
