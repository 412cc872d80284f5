"""JSON comparison as the conformance vectors define it (see shared/conformance/README.md).

JavaScript has one number type, so a whole number equals the same number written as a float
(``1 == 1.0``), but a boolean is never a number (``true != 1``). A key whose value is undefined
is simply absent in the vectors, so there is nothing to special-case: ``{"a": None}`` (null)
differs from ``{}``. Import it from a test module in this directory::

    from _compare import assert_json_equal, json_equal
"""

from __future__ import annotations

from typing import Any

__all__ = ["assert_json_equal", "json_equal"]


def json_equal(left: Any, right: Any) -> bool:
    """Deep equality of two decoded JSON values with JavaScript's number rule."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return float(left) == float(right)
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(json_equal, left, right))
    return type(left) is type(right) and left == right


def assert_json_equal(actual: Any, expected: Any, context: str = "") -> None:
    """``assert json_equal(actual, expected)`` with both values in the failure message."""
    assert json_equal(actual, expected), f"{context}\nactual:   {actual!r}\nexpected: {expected!r}"
