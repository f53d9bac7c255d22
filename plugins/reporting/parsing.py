"""OData query options → the Reporting API's query model (``core/reporting/query.py``).

``$filter`` (and the condition inside ``$apply=filter(…)``) is parsed by ``odata-query``
(gorilla-co's lexer and LALR parser, ``odata_query.grammar``), whose AST is translated here;
no hand-written expression parser. That library parses expressions only, so the other
options — lists of names and the shape of ``$expand``/``$apply`` — are split by the small
strict tokenizer below (:func:`_split`: commas or slashes outside parentheses and quotes),
which refuses anything it does not recognise with a 400 naming it.

Before the expression parser runs, the lexer's tokens are counted: a filter of more than
:data:`MAX_TOKENS` tokens is refused without being parsed (the parser's cost is linear, but
a 10,000-term filter has no business being parsed at all).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from odata_query import ast
from odata_query.exceptions import ODataException
from odata_query.grammar import ODataLexer, ODataParser

from core.reporting.query import (
    Aggregate,
    AggregateStep,
    BoolOp,
    Compare,
    Computed,
    ComputeStep,
    Expand,
    Expr,
    FilterStep,
    Func,
    GroupBy,
    ListValue,
    Not,
    OrderItem,
    Path,
    Query,
    QueryRefused,
    Step,
    Value,
)

__all__ = ["MAX_TOKENS", "SUPPORTED_OPTIONS", "ODataQueryParser", "parse_filter", "parse_options"]

#: Most lexer tokens a filter may have (each comparison is 3 or more).
MAX_TOKENS = 1_000
#: Longest text of one option.
MAX_OPTION_LENGTH = 20_000

SUPPORTED_OPTIONS = frozenset(
    {
        "$filter",
        "$select",
        "$orderby",
        "$top",
        "$skip",
        "$count",
        "$expand",
        "$apply",
        "$format",
        "$skiptoken",
    }
)
#: Known OData options Stint does not implement: 501 naming them, never ignored.
_NOT_IMPLEMENTED = frozenset({"$compute", "$levels", "$index", "$schemaversion", "$deltatoken"})

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
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}(/[A-Za-z_][A-Za-z0-9_]{0,63})*")


def _literal(node: ast._Node) -> Value:
    if isinstance(node, ast.Null):
        return Value(None)
    if isinstance(node, ast.Boolean):
        return Value(node.val.lower() == "true")
    if isinstance(node, ast.Integer):
        return Value(int(node.val))
    if isinstance(node, ast.Float):
        try:
            return Value(Decimal(node.val))
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
        return Value(when.astimezone(UTC))
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


def _split(text: str, sep: str) -> list[str]:
    """``text`` cut at ``sep`` outside parentheses and single-quoted strings."""
    parts: list[str] = []
    depth, quoted, start = 0, False, 0
    for i, ch in enumerate(text):
        if ch == "'":
            quoted = not quoted  # '' inside a string toggles twice: still inside
        elif quoted:
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise QueryRefused(f"unbalanced ')' in '{text[:80]}'")
        elif ch == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    if depth or quoted:
        raise QueryRefused(f"unbalanced parentheses or quotes in '{text[:80]}'")
    parts.append(text[start:].strip())
    return parts


def _call(text: str) -> tuple[str, str]:
    """``name(inner)`` → (name, inner)."""
    match = re.fullmatch(r"\s*([A-Za-z]+)\s*\((.*)\)\s*", text, re.S)
    if match is None:
        raise QueryRefused(f"cannot read '{text[:80]}'")
    return match.group(1), match.group(2)


def _one_path(text: str, option: str) -> Path:
    if not _PATH.fullmatch(text):
        raise QueryRefused(f"{option}: '{text[:80]}' is not a property name")
    return Path(tuple(text.split("/")))


def _names(text: str, option: str) -> list[str]:
    names = [part.strip() for part in text.split(",")]
    for name in names:
        if not _NAME.fullmatch(name):
            raise QueryRefused(f"{option}: '{name[:80]}' is not a property name")
    return names


def _orderby(text: str) -> tuple[OrderItem, ...]:
    items = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise QueryRefused(f"$orderby: cannot read '{part.strip()[:80]}' (Property [asc|desc])")
        items.append(OrderItem(_one_path(words[0], "$orderby"), len(words) == 2 and words[1] == "desc"))
    return tuple(items)


def _expand(text: str) -> tuple[Expand, ...]:
    found = []
    for part in _split(text, ","):
        if "(" not in part:
            if not _NAME.fullmatch(part):
                raise QueryRefused(f"$expand: '{part[:80]}' is not a navigation property")
            found.append(Expand(part))
            continue
        name, inner = _call(part)
        select: tuple[str, ...] = ()
        for option in _split(inner, ";"):
            key, _, value = option.partition("=")
            if key.strip() != "$select":
                raise QueryRefused(
                    f"$expand: the nested option '{key.strip()[:40]}' is not supported (only $select)"
                )
            select = tuple(_names(value, "$expand($select)"))
        found.append(Expand(name, select))
    return tuple(found)


_AGGREGATE = re.compile(
    r"\s*(\$count|[A-Za-z_][A-Za-z0-9_/]*)(?:\s+with\s+([a-z]+))?\s+as\s+([A-Za-z_][A-Za-z0-9_]*)\s*"
)
_METHODS = frozenset({"sum", "min", "max", "average", "countdistinct"})


def _aggregates(text: str) -> tuple[Aggregate, ...]:
    found = []
    for part in _split(text, ","):
        match = _AGGREGATE.fullmatch(part)
        if match is None:
            raise QueryRefused(f"aggregate: cannot read '{part[:80]}' (X with sum as Y, or $count as N)")
        source, method, alias = match.groups()
        if source == "$count":
            if method is not None:
                raise QueryRefused("aggregate: '$count as N' takes no 'with'")
            found.append(Aggregate(None, "count", alias))
            continue
        if method is None:
            raise QueryRefused(f"aggregate: '{part[:80]}' needs 'with sum|min|max|average|countdistinct'")
        if method not in _METHODS:
            raise QueryRefused(
                f"aggregate: the method '{method}' is not supported", status=501, code="not_implemented"
            )
        found.append(Aggregate(_one_path(source, "aggregate"), cast(Any, method), alias))
    return tuple(found)


_COMPUTED = re.compile(r"(.*\S)\s+as\s+([A-Za-z_][A-Za-z0-9_]{0,63})\s*", re.S)


def _compute(text: str) -> ComputeStep:
    """``compute(year(Timestamp) as Year, …)``: each expression through the $filter parser."""
    items = []
    for part in _split(text, ","):
        match = _COMPUTED.fullmatch(part)
        if match is None:
            raise QueryRefused(f"compute: cannot read '{part[:80]}' (expression as Alias)")
        items.append(Computed(parse_filter(match.group(1), "compute"), match.group(2)))
    return ComputeStep(tuple(items))


def _apply(text: str) -> tuple[Step, ...]:
    steps: list[Step] = []
    for part in _split(text, "/"):
        name, inner = _call(part)
        if name == "filter":
            steps.append(FilterStep(parse_filter(inner)))
        elif name == "compute":
            steps.append(_compute(inner))
        elif name == "aggregate":
            steps.append(AggregateStep(_aggregates(inner)))
        elif name == "groupby":
            pieces = _split(inner, ",")
            first = pieces[0]
            if not (first.startswith("(") and first.endswith(")")):
                raise QueryRefused("groupby: the properties go in parentheses: groupby((A,B),…)")
            paths = tuple(_one_path(p.strip(), "groupby") for p in first[1:-1].split(","))
            aggregates: tuple[Aggregate, ...] = ()
            if len(pieces) == 2:
                inner_name, inner_args = _call(pieces[1])
                if inner_name != "aggregate":
                    raise QueryRefused(
                        f"groupby: '{inner_name}' is not supported (only aggregate)",
                        status=501,
                        code="not_implemented",
                    )
                aggregates = _aggregates(inner_args)
            elif len(pieces) > 2:
                raise QueryRefused("groupby takes the properties and at most one aggregate(…)")
            steps.append(GroupBy(paths, aggregates))
        else:
            raise QueryRefused(
                f"$apply: the transformation '{name}' is not supported", status=501, code="not_implemented"
            )
    return tuple(steps)


def _integer(text: str, option: str) -> int:
    if not re.fullmatch(r"\d{1,9}", text.strip()):
        raise QueryRefused(f"{option} must be a non-negative integer")
    return int(text)


def parse_options(entity_set: str, options: Mapping[str, str]) -> Query:
    """The query the OData system query options ask for; unknown options → 400 naming them."""
    for name, value in options.items():
        if name == "$search":
            raise QueryRefused("$search is not supported: filter with contains(Property,'text')")
        if name in _NOT_IMPLEMENTED:
            raise QueryRefused(f"{name} is not supported", status=501, code="not_implemented")
        if name.startswith("$") and name not in SUPPORTED_OPTIONS:
            raise QueryRefused(f"the query option '{name[:40]}' is not supported")
        if len(value) > MAX_OPTION_LENGTH:
            raise QueryRefused(f"{name} is longer than {MAX_OPTION_LENGTH} characters")
    if options.get("$format", "json").split(";")[0].strip().lower() not in ("json", "application/json"):
        raise QueryRefused("$format: only json is supported")
    count = options.get("$count", "false").strip().lower()
    if count not in ("true", "false"):
        raise QueryRefused("$count must be true or false")
    select: tuple[Path, ...] = ()
    if options.get("$select", "").strip() not in ("", "*"):
        select = tuple(Path((n,)) for n in _names(options["$select"], "$select"))
    return Query(
        entity_set=entity_set,
        filter=parse_filter(options["$filter"]) if "$filter" in options else None,
        select=select,
        orderby=_orderby(options["$orderby"]) if options.get("$orderby", "").strip() else (),
        top=_integer(options["$top"], "$top") if "$top" in options else None,
        skip=_integer(options["$skip"], "$skip") if "$skip" in options else 0,
        count=count == "true",
        expand=_expand(options["$expand"]) if options.get("$expand", "").strip() else (),
        apply=_apply(options["$apply"]) if options.get("$apply", "").strip() else (),
    )


class ODataQueryParser:
    """:class:`core.reporting.QueryParser` by :func:`parse_options`."""

    def parse(self, entity_set: str, options: Mapping[str, str]) -> Query:
        return parse_options(entity_set, options)
