"""The Reporting API's query model: a small AST of our own that the OData parser's output is
translated into (``plugins/reporting/parsing.py``, ``$filter``'s by ``filter_parsing.py``) and SQL
is generated from (``plugins/reporting/sql.py``), with its validation against the entity model
and its limits.

Its validation against the model and the limits is ``validation.py``; every check raises
:class:`QueryRefused` with the status the answer carries (400 for a malformed or unknown
thing, 501 for a known OData feature Stint does not implement).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal as L

from core.errors import StintError

from .model import MODEL, EntitySet, Property

__all__ = [
    "MAX_DEPTH",
    "MAX_TERMS",
    "Aggregate",
    "AggregateStep",
    "BoolOp",
    "Compare",
    "ComputeStep",
    "Computed",
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
    "computed_of",
    "resolve",
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
class Computed:
    """``expr as alias`` in ``$apply=compute(…)`` (OData Aggregation §3.2.1): a new property
    of each row that a later ``groupby`` may name. Only ``year``/``month``/``day`` of a date or
    date-time property pass validation, in UTC as every date-time here is (see
    docs/reporting.md)."""

    expr: Expr
    alias: str


@dataclass(frozen=True, slots=True)
class ComputeStep:
    items: tuple[Computed, ...]


@dataclass(frozen=True, slots=True)
class GroupBy:
    paths: tuple[Path, ...]
    aggregates: tuple[Aggregate, ...] = ()


@dataclass(frozen=True, slots=True)
class AggregateStep:
    aggregates: tuple[Aggregate, ...]


Step = FilterStep | ComputeStep | GroupBy | AggregateStep


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


def computed_of(query: Query) -> dict[str, Computed]:
    """The properties ``$apply``'s compute steps add, by alias."""
    return {c.alias: c for s in query.apply if isinstance(s, ComputeStep) for c in s.items}


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
