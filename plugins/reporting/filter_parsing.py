"""``$filter`` (and a ``compute`` expression) → the query model's expressions, through
``odata-query``'s lexer and parser (``odata_query.grammar``), whose AST is translated here.

Before the expression parser runs, the lexer's tokens are counted: a filter of more than
:data:`MAX_TOKENS` tokens is refused without being parsed (the parser's cost is linear, but
a 10,000-term filter has no business being parsed at all).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from odata_query import ast
from odata_query.exceptions import ODataException
from odata_query.grammar import ODataLexer, ODataParser

from core.reporting.query import (
    BoolOp,
    Compare,
    Expr,
    Func,
    ListValue,
    Not,
    Path,
    QueryRefused,
    Value,
)

__all__ = ["MAX_TOKENS", "parse_filter"]

#: Most lexer tokens a filter may have (each comparison is 3 or more).
MAX_TOKENS = 1_000

_COMPARATORS: Mapping[type[Any], str] = {
    ast.Eq: "eq",
    ast.NotEq: "ne",
    ast.Lt: "lt",
    ast.LtE: "le",
    ast.Gt: "gt",
    ast.GtE: "ge",
    ast.In: "in",
}
_FUNCS = frozenset({"contains", "startswith", "endswith", "year", "month", "day", "tolower", "toupper"})
#: The largest magnitude and the most decimal places a number literal may have. Far beyond
#: any stored value (64-bit integers), and small enough that a literal scaled to storage
#: terms stays exact and within what both engines bind (PostgreSQL's NUMERIC, SQLite's REAL).
MAX_NUMBER_DIGITS = 100


def _number(text: str, value: int | Decimal) -> Value:
    exact = Decimal(value)
    places = -int(exact.as_tuple().exponent)
    if places > MAX_NUMBER_DIGITS or (exact and exact.adjusted() >= MAX_NUMBER_DIGITS):
        raise QueryRefused(
            f"'{text[:40]}' is out of range: a number may have at most {MAX_NUMBER_DIGITS} digits "
            f"before and after the decimal point"
        )
    return Value(value)


def _literal(node: ast._Node) -> Value:
    if isinstance(node, ast.Null):
        return Value(None)
    if isinstance(node, ast.Boolean):
        return Value(node.val.lower() == "true")
    if isinstance(node, ast.Integer):
        if len(node.val.lstrip("+-0")) > MAX_NUMBER_DIGITS:
            # Not even converted: int() of a 20,000-digit literal is Python's own limit error.
            return _number(node.val, Decimal("1e9999"))
        return _number(node.val, int(node.val))
    if isinstance(node, ast.Float):
        try:
            return _number(node.val, Decimal(node.val))
        except InvalidOperation:
            raise QueryRefused(f"'{node.val}' is not a number") from None
    if isinstance(node, ast.String):
        return Value(node.val)
    if isinstance(node, ast.Date):
        try:
            return Value(date.fromisoformat(node.val))
        except ValueError:
            raise QueryRefused(f"'{node.val}' is not a date") from None
    if isinstance(node, ast.DateTime):
        try:
            when = datetime.fromisoformat(node.val.replace("Z", "+00:00"))
        except ValueError:
            raise QueryRefused(f"'{node.val}' is not a date-time") from None
        if when.tzinfo is None:
            raise QueryRefused(f"'{node.val}' needs a time zone offset (Z or ±hh:mm)")
        try:
            return Value(when.astimezone(UTC))
        except OverflowError:
            # 9999-12-31T23:59:59-14:00 is in year 10000 in UTC, which no date-time reaches.
            raise QueryRefused(
                f"'{node.val}' is out of range: in UTC it is before year 1 or after 9999"
            ) from None
    if isinstance(node, ast.GUID):
        return Value(node.val)
    raise QueryRefused(
        f"{type(node).__name__} literals are not supported", status=501, code="not_implemented"
    )


def _path(node: ast._Node) -> Path:
    if isinstance(node, ast.Identifier):
        if node.namespace:
            raise QueryRefused(f"'{'.'.join((*node.namespace, node.name))}': namespaces are not supported")
        return Path((node.name,))
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.owner, ast.Identifier)
        and not node.owner.namespace
    ):
        return Path((node.owner.name, node.attr))
    raise QueryRefused("only properties and one level of navigation (WorkItem/Type) may be used")


def _translate(node: ast._Node) -> Expr:
    # Recursion depth is bounded: the token limit caps the tree at MAX_TOKENS nodes, and
    # the parser nests at most one level per token.
    if isinstance(node, ast.Identifier | ast.Attribute):
        return _path(node)
    if isinstance(node, ast.List):
        return ListValue(tuple(_literal(v) for v in node.val))
    if isinstance(node, ast._Literal):
        return _literal(node)
    if isinstance(node, ast.Compare):
        op = _COMPARATORS.get(type(node.comparator))
        if op is None:
            raise QueryRefused(f"the comparison {type(node.comparator).__name__} is not supported")
        return Compare(cast(Any, op), _translate(node.left), _translate(node.right))
    if isinstance(node, ast.BoolOp):
        return BoolOp(
            "and" if isinstance(node.op, ast.And) else "or", _translate(node.left), _translate(node.right)
        )
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            return Not(_translate(node.operand))
        if isinstance(node.operand, ast.Integer | ast.Float):
            literal = _literal(node.operand).value
            assert isinstance(literal, int | Decimal)
            return Value(-literal)
        raise QueryRefused("negation applies to number literals only")
    if isinstance(node, ast.Call):
        name = node.func.name
        if name not in _FUNCS or node.func.namespace:
            raise QueryRefused(f"the function '{name}' is not supported", status=501, code="not_implemented")
        return Func(cast(Any, name), tuple(_translate(arg) for arg in node.args))
    if isinstance(node, ast.BinOp):
        raise QueryRefused(
            "arithmetic (add, sub, mul, div, mod) is not supported", status=501, code="not_implemented"
        )
    if isinstance(node, ast.CollectionLambda):
        raise QueryRefused("any/all are not supported", status=501, code="not_implemented")
    raise QueryRefused(
        f"{type(node).__name__} is not supported in $filter", status=501, code="not_implemented"
    )


def parse_filter(text: str, option: str = "$filter") -> Expr:
    """A ``$filter`` expression (or ``option``'s: compute's too), through odata-query's lexer
    and parser."""
    if not text.strip():
        raise QueryRefused(f"{option} is empty")
    try:
        tokens = []
        for token in ODataLexer().tokenize(text):
            tokens.append(token)
            if len(tokens) > MAX_TOKENS:
                raise QueryRefused(f"{option} has more than {MAX_TOKENS} tokens")
        tree = ODataParser().parse(iter(tokens))
    except ODataException as exc:
        raise QueryRefused(f"{option} cannot be parsed: {exc}") from None
    except RecursionError:
        raise QueryRefused(f"{option} is nested too deeply") from None
    if tree is None:
        raise QueryRefused(f"{option} cannot be parsed")
    try:
        return _translate(tree)
    except RecursionError:
        raise QueryRefused(f"{option} is nested too deeply") from None
