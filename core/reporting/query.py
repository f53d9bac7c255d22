"""The Reporting API's query model: a small AST of our own that the OData parser's output is
translated into (``plugins/reporting/parsing.py``) and SQL is generated from
(``plugins/reporting/sql.py``), with its validation against the entity model and its limits.

Every check here raises :class:`QueryRefused` with the status the answer carries (400 for a
malformed or unknown thing, 501 for a known OData feature Stint does not implement).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal as L

from core.errors import StintError

from .model import MODEL, Edm, EntitySet, Property

__all__ = [
    "MAX_DEPTH",
    "MAX_TERMS",
    "Aggregate",
    "AggregateStep",
    "BoolOp",
    "Compare",
    "Expand",
    "Expr",
    "FilterStep",
    "Func",
    "GroupBy",
    "HitBy",
    "ListValue",
    "Not",
    "OrderItem",
    "Path",
    "Query",
    "QueryRefused",
    "Step",
    "Value",
    "and_all",
    "resolve",
    "validate",
]

#: Most terms (comparisons, functions, literals) in a query's expressions together.
MAX_TERMS = 200
#: Deepest nesting of an expression.
MAX_DEPTH = 32
#: Most values in one ``in (…)`` list.
MAX_IN_VALUES = 500
MAX_TOP = 1_000_000

Scalar = str | int | Decimal | bool | date | datetime | None


class QueryRefused(StintError):
    """A query the Reporting API will not run; ``status`` is 400, or 501 for a known
    OData feature it does not implement."""

    code = "bad_request"

    def __init__(self, detail: str, *, status: int = 400, code: str = "bad_request") -> None:
        super().__init__(detail)
        self.status = status
        self.code_ = code


@dataclass(frozen=True, slots=True)
class Path:
    """A property (``("Comment",)``) or one navigation then its property (``("WorkItem", "Type")``)."""

    segments: tuple[str, ...]

    @property
    def text(self) -> str:
        return "/".join(self.segments)


@dataclass(frozen=True, slots=True)
class Value:
    value: Scalar


@dataclass(frozen=True, slots=True)
class ListValue:
    values: tuple[Value, ...]


CompareOp = L["eq", "ne", "lt", "le", "gt", "ge", "in"]
FuncName = L["contains", "startswith", "endswith", "year", "month", "day", "tolower", "toupper"]


@dataclass(frozen=True, slots=True)
class Compare:
    op: CompareOp
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: L["and", "or"]
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr


@dataclass(frozen=True, slots=True)
class Func:
    name: FuncName
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class HitBy:
    """Rows of a set that a worklog of ``user_id`` resolves to (budgets their time hit).
    Not an OData construct: only the visibility rule makes it."""

    user_id: str


Expr = Path | Value | ListValue | Compare | BoolOp | Not | Func | HitBy

BOOLEAN_FUNCS = frozenset({"contains", "startswith", "endswith"})
DATE_PART_FUNCS = frozenset({"year", "month", "day"})
STRING_FUNCS = frozenset({"tolower", "toupper"})


@dataclass(frozen=True, slots=True)
class Aggregate:
    """``X with method as Alias``; ``source`` None: ``$count as Alias``."""

    source: Path | None
    method: L["sum", "min", "max", "average", "countdistinct", "count"]
    alias: str


@dataclass(frozen=True, slots=True)
class FilterStep:
    expr: Expr


@dataclass(frozen=True, slots=True)
class GroupBy:
    paths: tuple[Path, ...]
    aggregates: tuple[Aggregate, ...] = ()


@dataclass(frozen=True, slots=True)
class AggregateStep:
    aggregates: tuple[Aggregate, ...]


Step = FilterStep | GroupBy | AggregateStep


@dataclass(frozen=True, slots=True)
class OrderItem:
    path: Path
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Expand:
    navigation: str
    select: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Query:
    entity_set: str
    filter: Expr | None = None
    select: tuple[Path, ...] = ()
    orderby: tuple[OrderItem, ...] = ()
    top: int | None = None
    skip: int = 0
    count: bool = False
    expand: tuple[Expand, ...] = ()
    apply: tuple[Step, ...] = field(default=())

    @property
    def aggregated(self) -> bool:
        return any(isinstance(step, GroupBy | AggregateStep) for step in self.apply)


def and_all(exprs: list[Expr]) -> Expr | None:
    result: Expr | None = None
    for expr in exprs:
        result = expr if result is None else BoolOp("and", result, expr)
    return result


def resolve(entity_set: EntitySet, path: Path) -> Property:
    """The property ``path`` names from ``entity_set``; 400 naming it when there is none."""
    if len(path.segments) == 1:
        found = entity_set.prop(path.segments[0])
        if found is None:
            raise QueryRefused(f"'{path.text}' is not a property of {entity_set.name}")
        return found
    if len(path.segments) == 2:
        nav = entity_set.navigation(path.segments[0])
        if nav is None:
            raise QueryRefused(f"'{path.segments[0]}' is not a navigation property of {entity_set.name}")
        found = MODEL[nav.target].prop(path.segments[1])
        if found is None:
            raise QueryRefused(f"'{path.text}' is not a property of {entity_set.name}")
        return found
    raise QueryRefused(f"'{path.text}': only one level of navigation is supported")


def _walk(expr: Expr, depth: int = 1) -> Iterator[tuple[Expr, int]]:
    # Iterative, so a hostile depth is refused by the limit, never by Python's recursion limit.
    stack: list[tuple[Expr, int]] = [(expr, depth)]
    while stack:
        node, level = stack.pop()
        yield node, level
        if isinstance(node, Compare | BoolOp):
            stack.append((node.right, level + 1))
            stack.append((node.left, level + 1))
        elif isinstance(node, Not):
            stack.append((node.operand, level + 1))
        elif isinstance(node, Func):
            stack.extend((arg, level + 1) for arg in node.args)
        elif isinstance(node, ListValue):
            if len(node.values) > MAX_IN_VALUES:
                raise QueryRefused(f"an 'in' list may hold at most {MAX_IN_VALUES} values")
            stack.extend((v, level + 1) for v in node.values)


def _type_of(entity_set: EntitySet, expr: Expr) -> Edm | None:
    """The Edm type an expression yields (None: a literal null or a list)."""
    if isinstance(expr, Path):
        return resolve(entity_set, expr).edm
    if isinstance(expr, Func):
        if expr.name in DATE_PART_FUNCS:
            return Edm.INT64
        if expr.name in STRING_FUNCS:
            return Edm.STRING
        return Edm.BOOLEAN
    if isinstance(expr, Compare | BoolOp | Not):
        return Edm.BOOLEAN
    if isinstance(expr, Value):
        v = expr.value
        if isinstance(v, bool):
            return Edm.BOOLEAN
        if isinstance(v, int):
            return Edm.INT64
        if isinstance(v, Decimal):
            return Edm.DECIMAL
        if isinstance(v, datetime):
            return Edm.DATETIME
        if isinstance(v, date):
            return Edm.DATE
        if isinstance(v, str):
            return Edm.STRING
    return None


def _compatible(a: Edm | None, b: Edm | None) -> bool:
    if a is None or b is None or a == b:
        return True
    if a.numeric and b.numeric:
        return True
    return a.temporal and b.temporal


def _check_expr(entity_set: EntitySet, expr: Expr, *, boolean: bool = True) -> None:
    for node, level in _walk(expr):
        if level > MAX_DEPTH:
            raise QueryRefused(f"the expression is nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, Path):
            resolve(entity_set, node)
        elif isinstance(node, Compare):
            left, right = _type_of(entity_set, node.left), _type_of(entity_set, node.right)
            if node.op == "in":
                if not isinstance(node.right, ListValue):
                    raise QueryRefused("'in' takes a list of values: Name in ('a', 'b')")
                for item in node.right.values:
                    if not _compatible(left, _type_of(entity_set, item)):
                        raise QueryRefused(f"'in' compares {left} with a value of another type")
            elif not _compatible(left, right):
                raise QueryRefused(f"cannot compare {left} with {right}")
            if isinstance(node.left, ListValue) or (node.op != "in" and isinstance(node.right, ListValue)):
                raise QueryRefused("a list of values may only follow 'in'")
        elif isinstance(node, Func):
            _check_func(entity_set, node)
        elif isinstance(node, BoolOp | Not):
            for operand in (node.left, node.right) if isinstance(node, BoolOp) else (node.operand,):
                if _type_of(entity_set, operand) not in (Edm.BOOLEAN, None) or isinstance(operand, Value):
                    raise QueryRefused("'and', 'or' and 'not' take conditions")
    if boolean and _type_of(entity_set, expr) is not Edm.BOOLEAN:
        raise QueryRefused("$filter must be a condition")


def _check_func(entity_set: EntitySet, node: Func) -> None:
    if node.name in BOOLEAN_FUNCS:
        if len(node.args) != 2:
            raise QueryRefused(f"{node.name} takes two arguments")
        for arg in node.args:
            if _type_of(entity_set, arg) not in (Edm.STRING, None):
                raise QueryRefused(f"{node.name} takes text")
        if not isinstance(node.args[1], Value) or not isinstance(node.args[1].value, str):
            raise QueryRefused(f"{node.name}'s second argument must be a text literal")
    else:
        if len(node.args) != 1:
            raise QueryRefused(f"{node.name} takes one argument")
        kind = _type_of(entity_set, node.args[0])
        if node.name in DATE_PART_FUNCS and (kind is None or not kind.temporal):
            raise QueryRefused(f"{node.name} takes a date or a date-time")
        if node.name in STRING_FUNCS and kind is not Edm.STRING:
            raise QueryRefused(f"{node.name} takes text")


def _terms(query: Query) -> int:
    exprs: list[Expr] = [] if query.filter is None else [query.filter]
    exprs += [step.expr for step in query.apply if isinstance(step, FilterStep)]
    return sum(1 for expr in exprs for _ in _walk(expr))


def validate(query: Query) -> EntitySet:
    """Check ``query`` against the model and the limits; its entity set."""
    entity_set = MODEL.get(query.entity_set)
    if entity_set is None:
        raise QueryRefused(f"'{query.entity_set}' is not an entity set", status=404, code="not_found")
    if _terms(query) > MAX_TERMS:
        raise QueryRefused(f"the query has more than {MAX_TERMS} terms")
    if query.filter is not None:
        _check_expr(entity_set, query.filter)
    if query.top is not None and not 0 <= query.top <= MAX_TOP:
        raise QueryRefused(f"$top must be between 0 and {MAX_TOP}")
    if query.skip < 0:
        raise QueryRefused("$skip cannot be negative")
    for path in query.select:
        if len(path.segments) != 1:
            raise QueryRefused(f"$select '{path.text}': select navigation properties with $expand")
        resolve(entity_set, path)
    for expand in query.expand:
        nav = entity_set.navigation(expand.navigation)
        if nav is None:
            raise QueryRefused(f"'{expand.navigation}' is not a navigation property of {entity_set.name}")
        target = MODEL[nav.target]
        for name in expand.select:
            if target.prop(name) is None:
                raise QueryRefused(f"'{name}' is not a property of {target.name}")
    _validate_apply(entity_set, query)
    if not query.aggregated:
        for item in query.orderby:
            resolve(entity_set, item.path)
    return entity_set


def _validate_apply(entity_set: EntitySet, query: Query) -> None:
    grouped = False
    aliases: set[str] = set()
    for step in query.apply:
        if grouped:
            raise QueryRefused("$apply: nothing may follow groupby or aggregate")
        if isinstance(step, FilterStep):
            _check_expr(entity_set, step.expr)
            continue
        grouped = True
        aggregates = step.aggregates
        if isinstance(step, GroupBy):
            if not step.paths:
                raise QueryRefused("groupby needs at least one property")
            for path in step.paths:
                resolve(entity_set, path)
        elif not aggregates:
            raise QueryRefused("aggregate needs at least one aggregation")
        for agg in aggregates:
            if not agg.alias.isidentifier() or entity_set.prop(agg.alias) is not None:
                raise QueryRefused(f"'{agg.alias}' cannot be an alias (it must be a new name)")
            if agg.alias in aliases:
                raise QueryRefused(f"the alias '{agg.alias}' is used twice")
            aliases.add(agg.alias)
            if agg.source is None:
                continue
            prop = resolve(entity_set, agg.source)
            if agg.method in ("sum", "average") and not prop.edm.numeric:
                raise QueryRefused(f"{agg.method} needs a number; '{agg.source.text}' is {prop.edm}")
    if grouped:
        if query.select or query.expand:
            raise QueryRefused("$select and $expand do not combine with $apply's groupby/aggregate")
        names = {p.text for s in query.apply if isinstance(s, GroupBy) for p in s.paths} | aliases
        for item in query.orderby:
            if item.path.text not in names:
                raise QueryRefused(f"$orderby '{item.path.text}' is neither grouped nor an alias")
